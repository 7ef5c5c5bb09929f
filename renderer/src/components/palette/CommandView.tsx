import type { RiskReason } from '../../../../contract'
import { controlSegments, showControls } from '../../../../contract/display'
import { highlightShell } from '../../lib/highlight'

interface Props {
  command: string
  /** Reasons whose spans are marked in the command. */
  reasons?: RiskReason[]
  /** The reason the user is looking at: its span is emphasised. */
  focusedReason?: number | null
}

/** Line feeds stay line breaks (multi-line commands); every other control character is spelled out. */
const DISPLAY = { keepNewlines: true } as const

/**
 * A command with syntax colours and the risky spans underlined. Display only. Control, bidi and
 * invisible characters are shown as visible escapes (`\e`, `\r`, `\u{202e}`), so a command cannot
 * hide part of itself (clear the line, retitle the window, reorder text) on the card.
 */
export function CommandView({ command, reasons = [], focusedReason = null }: Props) {
  const marks = reasons
    .map((r, index) => ({ ...r, index }))
    .filter((r) => r.span && r.risk !== 'safe' && r.span.end > r.span.start)
  const markAt = (offset: number) =>
    marks.find((m) => m.span!.start <= offset && offset < m.span!.end) ?? null
  return (
    <code className="command-view" aria-label={`Command: ${showControls(command, DISPLAY)}`}>
      {highlightShell(command).flatMap((token) => {
        // Split tokens at mark boundaries so a span can start or end inside a word.
        const pieces: Array<{ start: number; end: number }> = []
        let pieceStart = token.start
        for (let i = token.start + 1; i <= token.start + token.text.length; i++) {
          if (i === token.start + token.text.length || markAt(i) !== markAt(i - 1)) {
            pieces.push({ start: pieceStart, end: i })
            pieceStart = i
          }
        }
        return pieces.map((piece) => {
          const mark = markAt(piece.start)
          const className = [
            `tok-${token.kind}`,
            mark ? `risk-mark risk-${mark.risk}` : '',
            mark && mark.index === focusedReason ? 'risk-mark-focused' : '',
          ]
            .filter(Boolean)
            .join(' ')
          return (
            <span key={piece.start} className={className} title={mark?.message}>
              {controlSegments(command.slice(piece.start, piece.end), DISPLAY).map((segment) =>
                segment.control ? (
                  <span
                    key={segment.start}
                    className="ctl"
                    title="An invisible or control character, shown as its escape"
                  >
                    {segment.text}
                  </span>
                ) : (
                  segment.text
                ),
              )}
            </span>
          )
        })
      })}
    </code>
  )
}
