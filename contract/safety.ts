import { z } from 'zod'

/** How dangerous a command is. critical is blocked; high needs an explicit confirmation. */
export type Risk = 'safe' | 'moderate' | 'high' | 'critical'
/** What the app does with a verdict, after the safety level and policy rules are applied. */
export type PolicyAction = 'allow' | 'confirm' | 'block'
export type ShellDialect = 'bash' | 'sh' | 'zsh' | 'fish' | 'powershell'

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

export interface Verdict {
  command: string
  shell: ShellDialect
  risk: Risk
  action: PolicyAction
  reasons: RiskReason[]
}

/** Requests of the `safety` domain. */
export const safetyRequests = {} as const satisfies Record<string, z.ZodType>

export interface SafetyResults {}

export interface SafetyEvents {}
