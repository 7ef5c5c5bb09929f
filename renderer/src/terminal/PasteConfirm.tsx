import { useEffect, useRef } from 'react'
import type { PasteRisk } from './paste'

interface Props {
  text: string
  risk: PasteRisk
  /** The shell takes pasted lines as typed keys (no bracketed paste): each line runs at once. */
  runsAtOnce: boolean
  onPaste(): void
  onCancel(): void
}

const PREVIEW_LINES = 8

/**
 * Asked before a multi-line paste runs at the prompt when the safety engine does not allow it
 * outright. Cancel has the focus, so a stray Enter does not run it.
 */
export function PasteConfirm({ text, risk, runsAtOnce, onPaste, onCancel }: Props) {
  const cancel = useRef<HTMLButtonElement>(null)
  useEffect(() => cancel.current?.focus(), [])
  const lines = text.replace(/(\r\n?|\n)$/, '').split(/\r\n?|\n/)
  const shown = lines.slice(0, PREVIEW_LINES).join('\n')
  const more = lines.length - PREVIEW_LINES

  return (
    <div
      className="paste-confirm"
      role="alertdialog"
      aria-modal="true"
      aria-labelledby="paste-confirm-title"
      aria-describedby="paste-confirm-reason"
      onKeyDown={(event) => {
        if (event.key === 'Escape') {
          event.preventDefault()
          onCancel()
        }
      }}
    >
      <h2 id="paste-confirm-title">Run this paste?</h2>
      <p id="paste-confirm-reason">
        {lines.length === 1 ? 'It is one line' : `It has ${lines.length} lines`}
        {runsAtOnce ? ' and runs as soon as it is pasted. ' : ' that run when you press Enter. '}
        {risk.reason}
      </p>
      <pre className="paste-confirm-preview">
        {shown}
        {more > 0 ? `\n… ${more} more lines` : ''}
      </pre>
      <div className="paste-confirm-actions">
        <button type="button" ref={cancel} onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className="danger" onClick={onPaste}>
          Paste and run
        </button>
      </div>
    </div>
  )
}
