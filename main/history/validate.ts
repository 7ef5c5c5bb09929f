/**
 * What may be stored in a command row. The same limits are CHECK constraints in the schema
 * (migration 5), so nothing that slips past this module reaches the table either.
 */
export const LIMITS = {
  /** Characters of one command (a long heredoc fits; a megabyte of base64 does not). */
  commandChars: 65_536,
  /** Characters of a working directory (PATH_MAX). */
  cwdChars: 4096,
  /** Characters of shell, host, source, session and tab ids. */
  shortChars: 255,
  /** Latest start time: 9999-12-31, the last instant an ISO 8601 date can say. */
  maxTime: 253_402_300_799_999,
  maxInt32: 2_147_483_647,
} as const

export interface CommandFields {
  command: string
  cwd?: string | null
  exitCode?: number | null
  startedAt: number
  durationMs?: number | null
  shell?: string | null
  host?: string | null
  sessionId?: string | null
  ptyId?: string | null
  source: string
}

/**
 * Why this command cannot be stored, or null when it can. `now` (epoch ms) also rejects start
 * times more than a day in the future (a broken clock or a corrupt history file).
 */
export function commandProblem(input: CommandFields, now?: number): string | null {
  const text = textProblem('command', input.command, LIMITS.commandChars)
  if (text) return text
  if (!input.command.trim()) return 'the command is empty'
  if (input.cwd != null) {
    const cwd = textProblem('working directory', input.cwd, LIMITS.cwdChars)
    if (cwd) return cwd
  }
  for (const [name, value] of [
    ['shell', input.shell],
    ['host', input.host],
    ['session id', input.sessionId],
    ['tab id', input.ptyId],
    ['source', input.source],
  ] as const) {
    if (value == null) continue
    const problem = textProblem(name, value, LIMITS.shortChars)
    if (problem) return problem
  }
  return timeProblem(input.startedAt, now)
}

/** Why a start time cannot be stored, or null. */
export function timeProblem(startedAt: number, now?: number): string | null {
  if (!Number.isFinite(startedAt)) return 'the timestamp is not a number'
  if (startedAt < 0) return `the timestamp ${startedAt} is before 1970`
  if (startedAt > LIMITS.maxTime) return `the timestamp ${startedAt} is after the year 9999`
  if (now !== undefined && startedAt > now + 86_400_000) {
    return `the timestamp ${new Date(startedAt).toISOString()} is in the future`
  }
  return null
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Why a text cannot be stored (NUL, lone surrogate, too long), or null. */
export function textProblem(name: string, value: string, max: number): string | null {
  if (value.includes('\0')) return `the ${name} contains a NUL byte`
  if (LONE_SURROGATE.test(value)) return `the ${name} is not valid Unicode (a lone surrogate)`
  if (value.length > max) return `the ${name} is ${value.length} characters long (at most ${max})`
  return null
}

/** A duration or exit code that fits the column, else null (unknown): never a reason to skip. */
export function int32OrNull(
  value: number | null | undefined,
  min = -LIMITS.maxInt32,
): number | null {
  if (value == null || !Number.isFinite(value)) return null
  const n = Math.round(value)
  return n >= min && n <= LIMITS.maxInt32 ? n : null
}

/** An epoch-ms value as an ISO string, or null when no Date can hold it (legacy rows). */
export function isoOrNull(ms: number): string | null {
  const d = new Date(ms)
  return Number.isNaN(d.getTime()) ? null : d.toISOString()
}
