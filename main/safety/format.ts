import { controlSegments, displayOffset, showControls } from '../../contract/display'
import type { CommandBreakdown, Risk, Verdict } from '../../contract/safety'

export interface FormatOptions {
  color: boolean
}

const COLORS: Record<Risk | 'dim' | 'bold' | 'mark' | 'control', [string, string]> = {
  safe: ['\x1b[32m', '\x1b[39m'],
  moderate: ['\x1b[33m', '\x1b[39m'],
  high: ['\x1b[31m', '\x1b[39m'],
  critical: ['\x1b[1;41;97m', '\x1b[0m'],
  dim: ['\x1b[2m', '\x1b[22m'],
  bold: ['\x1b[1m', '\x1b[22m'],
  mark: ['\x1b[4;31m', '\x1b[24;39m'],
  control: ['\x1b[7m', '\x1b[27m'],
}

function paint(o: FormatOptions, style: keyof typeof COLORS, text: string): string {
  return o.color ? COLORS[style][0] + text + COLORS[style][1] : text
}

/** Text from the command or a policy, made safe to print: no control character gets through. */
function visible(text: string): string {
  return showControls(text)
}

/** A command line as shown: control characters as `\e`, `\x07`…, highlighted in colour. */
function shownCommand(o: FormatOptions, command: string, keepNewlines: boolean): string {
  return controlSegments(command, { keepNewlines })
    .map((s) => (s.control ? paint(o, 'control', s.text) : s.text))
    .join('')
}

/**
 * A human-readable verdict: risk, action, the command with the riskiest span marked, one line
 * per reason. Every part that comes from the command or a policy is shown with its control
 * characters made visible, so a command cannot clear the screen or hide text behind its verdict.
 */
export function formatVerdict(v: Verdict, o: FormatOptions): string {
  const lines: string[] = []
  const rule = v.policy?.source === 'rule' ? ` (policy rule ${visible(v.policy.ruleId ?? '')})` : ''
  lines.push(
    `${paint(o, v.risk, v.risk.toUpperCase())}  ${paint(o, 'bold', v.action)}${paint(o, 'dim', rule)}`,
  )
  if (v.policy?.reason) lines.push(`  ${paint(o, 'dim', visible(v.policy.reason))}`)
  const top = v.reasons.find((r) => r.span && r.span.end > r.span.start && r.risk === v.risk)
  if (top?.span && !v.command.includes('\n')) {
    const segments = controlSegments(v.command)
    const shown = segments.map((s) => s.text).join('')
    const start = displayOffset(segments, top.span.start)
    const end = Math.max(start + 1, displayOffset(segments, top.span.end))
    lines.push(
      '  ' +
        shownCommand(o, v.command.slice(0, top.span.start), false) +
        paint(o, 'mark', shown.slice(start, end)) +
        shownCommand(o, v.command.slice(top.span.end), false),
    )
    if (!o.color) lines.push('  ' + ' '.repeat(start) + '^'.repeat(Math.max(1, end - start)))
  } else lines.push('  ' + shownCommand(o, v.command, true).split('\n').join('\n  '))
  for (const r of v.reasons) {
    lines.push(
      `  ${paint(o, r.risk, `[${r.risk}]`.padEnd(10))} ${visible(r.message)} ${paint(o, 'dim', visible(r.ruleId))}`,
    )
  }
  if (v.parseError) lines.push(`  ${paint(o, 'dim', `parse: ${visible(v.parseError)}`)}`)
  if (!v.reasons.length)
    lines.push(
      `  ${paint(o, 'dim', 'Nothing in this command changes anything that the engine knows of.')}`,
    )
  return lines.join('\n')
}

/** The breakdown as text: one line per program, with flags, targets and wrappers. */
export function formatBreakdown(b: CommandBreakdown, o: FormatOptions = { color: false }): string {
  const lines: string[] = []
  if (b.parseError)
    lines.push(paint(o, 'high', `Could not parse all of it: ${visible(b.parseError)}`))
  for (const p of b.parts) {
    const head = `${p.connector && p.connector !== ';' ? p.connector + ' ' : ''}${paint(o, 'bold', visible(p.program))}${p.subcommand ? ' ' + visible(p.subcommand) : ''}`
    const bits = [head]
    if (p.via.length) bits.push(paint(o, 'dim', `via ${visible(p.via.join(' > '))}`))
    lines.push(bits.join('  '))
    if (p.flags.length) lines.push(`    flags:     ${visible(p.flags.join(' '))}`)
    if (p.targets.length) lines.push(`    targets:   ${visible(p.targets.join(' '))}`)
    if (p.redirects.length) lines.push(`    redirects: ${visible(p.redirects.join(' '))}`)
  }
  if (!b.parts.length) lines.push('(no programs run)')
  return lines.join('\n')
}
