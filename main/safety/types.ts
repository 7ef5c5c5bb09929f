import type { Platform, Risk, RiskReason, ShellDialect, Span } from '../../contract/safety'

export const RISK_ORDER: Record<Risk, number> = { safe: 0, moderate: 1, high: 2, critical: 3 }
const BY_ORDER: Risk[] = ['safe', 'moderate', 'high', 'critical']

export function maxRisk(a: Risk, b: Risk): Risk {
  return RISK_ORDER[a] >= RISK_ORDER[b] ? a : b
}

export function raiseRisk(risk: Risk, steps = 1): Risk {
  return BY_ORDER[Math.min(3, RISK_ORDER[risk] + steps)] ?? 'critical'
}

/** Marks the part of a resolved word whose value is only known at run time (`$X`, `$(cmd)`). */
export const DYN = '\u0000'

/** Whether a value comes from listing many resources, and whether that list was narrowed. */
export type FanOut = 'all' | 'selected'

/** One word of a command after quote removal and the expansions the engine can resolve. */
export interface Arg {
  /** The resolved text; parts only known at run time are replaced by {@link DYN}. */
  value: string
  /** The word as written. */
  raw: string
  span: Span
  /** True when any part of the word was quoted (a quoted `*` is not a glob). */
  quoted: boolean
  /** Set when part of the value was decoded (base64, hex or octal escapes, rot13, reversal). */
  decoded?: boolean
  /** Set when the value is one of many resources listed at run time (`$(aws ec2 describe-…)`). */
  fanOut?: FanOut
  /** What a process substitution `<(…)` produces, when the text alone decides it. */
  produced?: { text: string; decoded: boolean }
}

export interface Redirect {
  /** `>`, `>>`, `<`, `&>`, `>|`, `<<`, `<<<`, `>&`... */
  op: string
  fd: string | null
  target: Arg | null
  /** Body of a here-doc or here-string, with its span in the command text. */
  body?: { text: string; span: Span; literal: boolean }
  span: Span
}

/** Where a command's standard input comes from, as far as the parse can tell. */
export type StdinSource =
  | { kind: 'none' }
  | { kind: 'literal'; text: string; span: Span; decoded?: boolean }
  | ({ kind: 'network'; span: Span } & PipedFrom)
  | ({ kind: 'decoded'; span: Span } & PipedFrom)
  | ({ kind: 'file'; span: Span } & PipedFrom)
  | ({ kind: 'generated'; span: Span; words: Arg[] } & PipedFrom)

/** The commands a pipeline feeds from, and the part of their output known from the text alone. */
export interface PipedFrom {
  pipeline?: SimpleCommand[]
  known?: { text: string; decoded: boolean }
}

/** A simple command as the frontends produce it: what runs, its words and redirections. */
export interface SimpleCommand {
  words: Arg[]
  redirects: Redirect[]
  span: Span
  stdin: StdinSource
  /** The connector before it (`|`, `&&`, `||`, `;`, `&`), for the breakdown. */
  connector: string | null
  /**
   * The working directory it runs in, as far as the line itself decides it (`cd /`, `pushd ~`):
   * an absolute path, `~…`, a path relative to where the line started, or null for that start.
   */
  cwd?: string | null
  /** Where it runs instead if an earlier `cd` into a maybe-missing directory failed (`cd x; rm`). */
  cwdIfCdFailed?: string | null
  /** PowerShell: the native program an alias such as `rm` also names off Windows (/bin/rm). */
  nativeName?: Arg
}

/** A sink for findings, with the context of how the command is reached. */
export interface Finding {
  ruleId: string
  risk: Risk
  message: string
  span: Span | null
}

export interface ExecContext {
  dialect: ShellDialect
  /** Wrappers and indirections we went through, outermost first. */
  via: string[]
  privileged: boolean
  /** Host name when the command runs on another machine over ssh. */
  remote: string | null
  /**
   * Set when the command runs inside a container: a new one (`docker run`, rated as a sandbox
   * unless the host is mounted) or an existing one (`docker exec`, whose volumes are unknown).
   */
  container: {
    hostMounts: Array<{ host: string; inner: string }>
    privileged: boolean
    existing?: boolean
  } | null
  depth: number
  /** Maps a span of the text being analysed to a span of the original command. */
  mapSpan: (span: Span) => Span
  /** The working directory the script starts in (see {@link SimpleCommand.cwd}). */
  cwd: string | null
  /** The OS the shell runs on (PowerShell's `rm` is /bin/rm off Windows). */
  platform: Platform
  /** Set when the words come from listing many resources (xargs fed by `aws … list`). */
  fanOut?: FanOut
}

export type { Platform, Risk, RiskReason, ShellDialect, Span }
