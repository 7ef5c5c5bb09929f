import type { Finding } from './types'

/**
 * Bounds on how much the engine analyses. Every walk is bounded by these, and whatever lies
 * beyond them is rated critical and blocked (fail closed), with one reason per bound.
 */
export const LIMITS = {
  /** Longest command text analysed, in UTF-16 units. */
  maxInput: 256 * 1024,
  /** Deepest nesting of `$( )`, `( )`, `{ }`, quotes within one script. */
  maxNesting: 96,
  /** Deepest chain of scripts inside scripts (`bash -c "eval '…'"`, decoded payloads). */
  maxScriptDepth: 16,
  /** Most simple commands analysed for one line (including expanded functions and loops). */
  maxCommands: 40_000,
  /** Most words one brace expansion or loop may produce before the rest is left unexpanded. */
  maxExpansion: 256,
  /** Most values a `for` loop is unrolled for. */
  maxLoopValues: 8,
} as const

export type LimitKind = 'input' | 'nesting' | 'scripts' | 'commands'

const MESSAGES: Record<LimitKind, string> = {
  input: `Longer than ${LIMITS.maxInput} characters: too long to analyse, blocked to be safe`,
  nesting: `Nested more than ${LIMITS.maxNesting} levels deep: too deep to analyse, blocked to be safe`,
  scripts: `Scripts inside scripts more than ${LIMITS.maxScriptDepth} levels deep: blocked to be safe`,
  commands: `More than ${LIMITS.maxCommands} commands in one line: too many to analyse, blocked to be safe`,
}

/** The one finding for a bound that was exceeded: critical, so the verdict is blocked. */
export function limitFinding(kind: LimitKind): Finding {
  return { ruleId: `limits.${kind}`, risk: 'critical', message: MESSAGES[kind], span: null }
}

/** Rule ids whose presence blocks a command whatever the level or policy says. */
export function isFailClosed(ruleId: string): boolean {
  return ruleId.startsWith('limits.') || ruleId === 'engine.error'
}
