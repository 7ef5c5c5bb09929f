import { z } from 'zod'

/** How dangerous a command is. critical is blocked; high needs an explicit confirmation. */
export type Risk = 'safe' | 'moderate' | 'high' | 'critical'
/** What the app does with a verdict, after the safety level and policy rules are applied. */
export type PolicyAction = 'allow' | 'confirm' | 'block'
export type ShellDialect = 'bash' | 'sh' | 'zsh' | 'fish' | 'powershell'
/**
 * The OS the shell runs on. It changes what a command means: in PowerShell on Windows `rm` is
 * Remove-Item, on Linux and macOS it is /bin/rm. `unknown` rates by the worse reading.
 */
export type Platform = 'linux' | 'macos' | 'windows' | 'unknown'
/** How strict the mapping from risk to action is (see `main/safety/policy.ts`). */
export type SafetyLevel = 'strict' | 'moderate' | 'permissive'

export const RISKS = ['safe', 'moderate', 'high', 'critical'] as const satisfies readonly Risk[]
export const SHELL_DIALECTS = [
  'bash',
  'sh',
  'zsh',
  'fish',
  'powershell',
] as const satisfies readonly ShellDialect[]
export const PLATFORMS = [
  'linux',
  'macos',
  'windows',
  'unknown',
] as const satisfies readonly Platform[]
export const SAFETY_LEVELS = [
  'strict',
  'moderate',
  'permissive',
] as const satisfies readonly SafetyLevel[]

/** A half-open range of UTF-16 offsets into the command text. */
export interface Span {
  start: number
  end: number
}

export interface RiskReason {
  /** Stable rule id, e.g. `fs.rm.root`. */
  ruleId: string
  risk: Risk
  /** One line a human understands. */
  message: string
  /** The part of the command the reason points at, or null when it concerns the whole command. */
  span: Span | null
}

/** Which part of the policy decided the action. */
export interface PolicyDecision {
  level: SafetyLevel
  /** `level` when the safety level's default mapping applied, `rule` when a policy rule did. */
  source: 'level' | 'rule'
  /** The id of the policy rule that applied (source `rule`). */
  ruleId?: string
  /** Why that rule exists, as written in the policy. */
  reason?: string
}

export interface Verdict {
  command: string
  shell: ShellDialect
  risk: Risk
  action: PolicyAction
  reasons: RiskReason[]
  /** How the action was decided (level mapping or a named policy rule). */
  policy?: PolicyDecision
  /** Set when the command could not be parsed completely; the verdict then fails closed. */
  parseError?: string
  /** Program names that run (after seeing through wrappers), for policy rules and the UI. */
  programs?: string[]
  /** Tags the engine derived (e.g. `production`, `remote`, `privileged`, `network`). */
  tags?: string[]
}

/** One program invocation in the structural breakdown of a command. */
export interface CommandPart {
  /** The program as it runs (wrappers such as sudo are listed in `via`). */
  program: string
  /** First non-flag word for tools with subcommands (git, docker, kubectl...). */
  subcommand: string | null
  flags: string[]
  /** Operands (paths, names, URLs...) in order. */
  targets: string[]
  /** Wrappers and indirections it was found through, outermost first (e.g. `sudo`, `bash -c`). */
  via: string[]
  /** Redirections such as `> out.txt`. */
  redirects: string[]
  /** How it connects to the previous part: `|`, `&&`, `||`, `;`, `&`, or null for the first. */
  connector: string | null
  span: Span
}

export interface CommandBreakdown {
  command: string
  shell: ShellDialect
  parts: CommandPart[]
  parseError?: string
}

export interface SecretFinding {
  /** Provider or form, e.g. `aws-access-key`, `github-token`, `url-password`. */
  kind: string
  start: number
  end: number
}

export interface RedactionResult {
  text: string
  findings: SecretFinding[]
}

const commandText = z.string().max(100_000)

/** Requests of the `safety` domain. */
export const safetyRequests = {
  /** Rate a command and map the rating to an action. */
  'safety:check': z
    .object({
      command: commandText,
      shell: z.enum(SHELL_DIALECTS).optional(),
      level: z.enum(SAFETY_LEVELS).optional(),
      role: z.string().max(100).optional(),
      /** The OS the shell runs on; the app's own host when absent. */
      platform: z.enum(PLATFORMS).optional(),
    })
    .strict(),
  /** The structural breakdown of a command (programs, flags, targets), no model needed. */
  'safety:explain': z
    .object({
      command: commandText,
      shell: z.enum(SHELL_DIALECTS).optional(),
      platform: z.enum(PLATFORMS).optional(),
    })
    .strict(),
  /** Redact secrets (API keys, tokens, passwords) in a text. */
  'safety:redact': z.object({ text: commandText }).strict(),
} as const satisfies Record<string, z.ZodType>

export interface SafetyResults {
  'safety:check': Verdict
  'safety:explain': CommandBreakdown
  'safety:redact': RedactionResult
}

export interface SafetyEvents {}
