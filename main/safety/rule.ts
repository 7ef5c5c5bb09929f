import type { Engine } from './engine'
import type { OptionSpec, ParsedOptions } from './options'
import type { PathInfo } from './paths'
import type { Arg, ExecContext, FanOut, Risk, SimpleCommand, Span } from './types'

/**
 * What rules are written against, apart from the engine that runs them (so rules and the engine
 * do not import each other at run time).
 */
export interface EmitOptions {
  /** Raise by one level when the command names a production target. */
  prod?: boolean
}

/** What a rule sees: one command as it runs, after wrappers were peeled off. */
export interface CommandView {
  name: string
  nameArg: Arg
  args: Arg[]
  cmd: SimpleCommand
  ctx: ExecContext
  engine: Engine
  emit(
    ruleId: string,
    risk: Risk,
    message: string,
    at?: Arg | Span | null,
    options?: EmitOptions,
  ): void
  opts(spec?: OptionSpec): ParsedOptions
  /** What a path argument points at, seen from the directory the command runs in. */
  path(arg: Arg): PathInfo
  pathOf(value: string): PathInfo
  /** Whether the command acts on many resources listed at run time (and whether narrowed). */
  fanOut(): FanOut | undefined
}

/** A rule rates one program; wrappers (sudo, env, bash -c) run what they wrap instead. */
export type Rule = ((c: CommandView) => void) & { isWrapper?: boolean }

export function wrapper(fn: (c: CommandView) => void): Rule {
  return Object.assign(fn, { isWrapper: true })
}
