import type { CommandBreakdown, Risk, Verdict } from '../../contract/safety'

export interface FormatOptions {
  color: boolean
}

const COLORS: Record<Risk | 'dim' | 'bold' | 'mark', [string, string]> = {
  safe: ['\x1b[32m', '\x1b[39m'],
  moderate: ['\x1b[33m', '\x1b[39m'],
  high: ['\x1b[31m', '\x1b[39m'],
  critical: ['\x1b[1;41;97m', '\x1b[0m'],
  dim: ['\x1b[2m', '\x1b[22m'],
  bold: ['\x1b[1m', '\x1b[22m'],
  mark: ['\x1b[4;31m', '\x1b[24;39m'],
}

function paint(o: FormatOptions, style: keyof typeof COLORS, text: string): string {
  return o.color ? COLORS[style][0] + text + COLORS[style][1] : text
}

/** A human-readable verdict: risk, action, the command with the riskiest span marked, reasons. */
export function formatVerdict(v: Verdict, o: FormatOptions): string {
  const lines: string[] = []
  lines.push(
    `${paint(o, v.risk, v.risk.toUpperCase())}  ${paint(o, 'bold', v.action)}${v.policy?.source === 'rule' ? paint(o, 'dim', ` (policy rule ${v.policy.ruleId})`) : ''}`,
  )
  const top = v.reasons.find((r) => r.span && r.span.end > r.span.start && r.risk === v.risk)
  if (top?.span && !v.command.includes('\n')) {
    const { start, end } = top.span
    const cmd = v.command
    lines.push(
      '  ' + cmd.slice(0, start) + paint(o, 'mark', cmd.slice(start, end)) + cmd.slice(end),
    )
    if (!o.color) lines.push('  ' + ' '.repeat(start) + '^'.repeat(Math.max(1, end - start)))
  } else lines.push('  ' + v.command.split('\n').join('\n  '))
  for (const r of v.reasons) {
    lines.push(
      `  ${paint(o, r.risk, `[${r.risk}]`.padEnd(10))} ${r.message} ${paint(o, 'dim', r.ruleId)}`,
    )
  }
  if (!v.reasons.length)
    lines.push(
      `  ${paint(o, 'dim', 'Nothing in this command changes anything that the engine knows of.')}`,
    )
  return lines.join('\n')
}

/** The breakdown as text: one line per program, with flags, targets and wrappers. */
export function formatBreakdown(b: CommandBreakdown, o: FormatOptions = { color: false }): string {
  const lines: string[] = []
  if (b.parseError) lines.push(paint(o, 'high', `Could not parse all of it: ${b.parseError}`))
  for (const p of b.parts) {
    const head = `${p.connector && p.connector !== ';' ? p.connector + ' ' : ''}${paint(o, 'bold', p.program)}${p.subcommand ? ' ' + p.subcommand : ''}`
    const bits = [head]
    if (p.via.length) bits.push(paint(o, 'dim', `via ${p.via.join(' > ')}`))
    lines.push(bits.join('  '))
    if (p.flags.length) lines.push(`    flags:     ${p.flags.join(' ')}`)
    if (p.targets.length) lines.push(`    targets:   ${p.targets.join(' ')}`)
    if (p.redirects.length) lines.push(`    redirects: ${p.redirects.join(' ')}`)
  }
  if (!b.parts.length) lines.push('(no programs run)')
  return lines.join('\n')
}
