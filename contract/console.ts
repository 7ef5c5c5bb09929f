/**
 * The team admin console: a web app served by the sync server at `/admin/`, and its JSON API at
 * `/admin/api/…`. Sign-in trades a one-time link (`cmdai-sync admin-url`) for an HttpOnly,
 * SameSite=Strict session cookie; every change sends the session's CSRF token in a header; every
 * endpoint is authorised by role on the server (the `CONSOLE_ACCESS` areas below, which the UI
 * also uses to show only what a role may use) and every change is audited.
 *
 * Free of Node-only imports: the console UI imports it.
 */
import { z } from 'zod'
import { approvalDecisionSchema, type Approval } from './approvals'
import type { Policy } from './policy'
import { SHELL_DIALECTS, type PolicyAction, type Risk } from './safety'
import { ROLES, type AuditRecord, type Role } from './sync'
import { teamTelemetrySchema, type TelemetrySnapshot } from './telemetry'

export const CONSOLE_PATHS = {
  /** The web app (a hash router below it: `/admin/#/members`). */
  app: '/admin/',
  api: '/admin/api',
  /** `GET ?code=` trades the one-time link for the session cookie, then redirects to the app. */
  signin: '/admin/signin',
  /** `GET /admin/approve/<id>?exp=&sig=`: the signed link in Slack messages, into the console. */
  approveLink: '/admin/approve',
} as const

/** The session cookie (HttpOnly, SameSite=Strict, Path=/admin). */
export const CONSOLE_COOKIE = 'cmdai_console'
/** Header carrying the session's CSRF token on every request that changes something. */
export const CSRF_HEADER = 'x-cmdai-csrf'

/** What each part of the console needs, as the lowest role allowed. */
export const CONSOLE_ACCESS = {
  /** Own session: who am I, sign out. */
  session: 'readonly',
  members: 'admin',
  tokens: 'admin',
  libraries: 'readonly',
  policyView: 'readonly',
  policyEdit: 'admin',
  approvals: 'engineer',
  audit: 'admin',
  analytics: 'admin',
  webhooks: 'admin',
  settingsView: 'readonly',
  settingsEdit: 'admin',
} as const satisfies Record<string, Role>
export type ConsoleArea = keyof typeof CONSOLE_ACCESS

export const WEBHOOK_EVENTS = [
  'approval.requested',
  'approval.decided',
  'command.blocked',
  'policy.changed',
  'audit.verify-failed',
] as const
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number]

const roleSchema = z.enum(ROLES)
const userSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/, 'a user id like "ana"')
const idSchema = z.string().regex(/^[A-Za-z0-9_-]{6,64}$/)

export const consoleInputs = {
  memberRole: z.object({ user: userSchema, role: roleSchema }).strict(),
  memberRemove: z.object({ user: userSchema }).strict(),
  inviteCreate: z
    .object({
      role: roleSchema,
      /** Hours the link stays usable (at most 30 days). */
      hours: z
        .number()
        .int()
        .min(1)
        .max(30 * 24),
      /** Lifetime of the token the invitee gets, in days. */
      tokenDays: z.number().int().min(1).max(365).default(30),
      note: z.string().max(200).default(''),
    })
    .strict(),
  inviteRevoke: z.object({ id: idSchema }).strict(),
  /** Public: the invitee trades the invite code for a token, choosing their user id. */
  inviteRedeem: z.object({ code: z.string().min(20).max(100), user: userSchema }).strict(),
  tokenRevoke: z.object({ jti: z.string().min(8).max(64) }).strict(),
  sessionEnd: z
    .object({
      /** A live sync connection: its token is revoked, which closes all its connections. */
      connection: z.number().int().positive().optional(),
      /** A console session. */
      consoleSession: idSchema.optional(),
    })
    .strict()
    .refine((v) => (v.connection === undefined) !== (v.consoleSession === undefined), {
      message: 'give a connection or a console session',
    }),
  policySave: z.object({ policy: z.unknown() }).strict(),
  policyTry: z
    .object({
      command: z.string().min(1).max(16_384),
      shell: z.enum(SHELL_DIALECTS).default('bash'),
      /** Pattern tags the command would carry (policy rules can match them). */
      tags: z.array(z.string().min(1).max(64)).max(50).default([]),
      /** A draft not saved yet; the saved policy when absent. */
      policy: z.unknown().optional(),
    })
    .strict(),
  telemetry: teamTelemetrySchema,
  retention: z.object({ days: z.number().int().min(1).max(36_500).nullable() }).strict(),
  approvalDecision: approvalDecisionSchema,
  webhookCreate: z
    .object({
      url: z.string().url().max(2_000),
      format: z.enum(['slack', 'json']),
      events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).max(10),
      enabled: z.boolean().default(true),
      description: z.string().max(200).default(''),
    })
    .strict(),
  webhookUpdate: z
    .object({
      url: z.string().url().max(2_000).optional(),
      events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).max(10).optional(),
      enabled: z.boolean().optional(),
      description: z.string().max(200).optional(),
      /** Issue a new signing secret (returned once). */
      rotateSecret: z.boolean().optional(),
    })
    .strict(),
} as const
export type ConsoleInput<K extends keyof typeof consoleInputs> = z.input<(typeof consoleInputs)[K]>

/** Query of the audit browser (all optional, combined with AND). */
export const auditQuerySchema = z
  .object({
    actor: z.string().max(200).optional(),
    kind: z.string().max(50).optional(),
    library: z.string().max(100).optional(),
    since: z.coerce.number().int().nonnegative().optional(),
    until: z.coerce.number().int().nonnegative().optional(),
    /** Free text, case-insensitive, over the whole record. */
    q: z.string().max(200).optional(),
    /** Records older than this seq (paging back). */
    before: z.coerce.number().int().positive().optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict()
export type AuditQuery = z.input<typeof auditQuerySchema>

export const analyticsQuerySchema = z
  .object({ days: z.coerce.number().int().min(1).max(3_650).default(30) })
  .strict()

/**
 * Headers of every webhook delivery. The signature is `t=<unix seconds>,v1=<hex>` where the hex
 * is HMAC-SHA256, keyed with the webhook's secret, of `<t>.<raw body>`; receivers recompute it
 * and refuse old timestamps.
 */
export const WEBHOOK_HEADERS = {
  signature: 'x-cmdai-signature',
  event: 'x-cmdai-event',
  delivery: 'x-cmdai-delivery',
} as const

// ---------------------------------------------------------------------------------------------
// Answers

export interface ConsoleSession {
  team: string
  user: string
  role: Role
  csrf: string
  expiresAt: number
  /** The sync endpoint members' apps connect to (as this server sees itself). */
  syncUrl: string
}

export interface MemberView {
  user: string
  role: Role
  createdAt: number
  updatedAt: number
  activeTokens: number
  /** Open sync connections now. */
  online: number
}

export interface InviteView {
  id: string
  role: Role
  note: string
  createdBy: string
  createdAt: number
  expiresAt: number
  status: 'open' | 'used' | 'revoked' | 'expired'
  usedBy: string | null
  usedAt: number | null
}

export interface InviteCreated {
  invite: InviteView
  /** Shown once: the link carries the code (in the fragment, never sent to a server log). */
  link: string
}

export interface InviteRedeemed {
  team: string
  user: string
  role: Role
  token: string
  expiresAt: number
  /** The server URL to give the app's "Join a team library". */
  server: string
}

export interface TokenView {
  jti: string
  user: string
  role: Role
  label: string | null
  createdAt: number
  expiresAt: number
  revokedAt: number | null
  status: 'active' | 'revoked' | 'expired'
  /** Open connections using it. */
  connections: number
}

export interface LiveConnectionView {
  id: number
  user: string
  role: Role
  room: string
  ip: string
  openedAt: number
  readOnly: boolean
  jti: string
}

export interface ConsoleSessionView {
  id: string
  user: string
  createdAt: number
  expiresAt: number
  ip: string
  current: boolean
}

export interface SessionsView {
  connections: LiveConnectionView[]
  console: ConsoleSessionView[]
}

export interface LibrarySummary {
  name: string
  patterns: number
  invalid: number
  lastChangedAt: number | null
  lastChangedBy: string | null
  /** Patterns by the verdict on their template. */
  risks: Record<Risk, number>
}

export interface PatternVerdictView {
  id: string
  title: string
  description: string
  command: string
  tags: string[]
  parameters: string[]
  author: string
  updatedAt: number
  updatedBy: string | null
  risk: Risk
  /** The top reasons the engine gave. */
  reasons: string[]
}

export interface LibraryDetail {
  name: string
  patterns: PatternVerdictView[]
  invalid: Array<{ id: string; error: string }>
}

export interface PolicyView {
  policy: Policy | null
  updatedBy: string | null
  updatedAt: number | null
  /** Set when the stored policy does not validate (the apps then block everything). */
  error: string | null
}

export interface RoleVerdict {
  role: Role
  risk: Risk
  /** What the app does for this role: run, ask to confirm, needs an approval, or block. */
  action: PolicyAction | 'approval'
  ruleId: string
  reason: string
}

export interface TryResult {
  command: string
  risk: Risk
  reasons: Array<{ ruleId: string; risk: Risk; message: string }>
  roles: RoleVerdict[]
}

export interface SettingsView {
  telemetry: TelemetrySnapshot
  retentionDays: number | null
}

export interface AuditPage {
  records: AuditRecord[]
  /** Pass as `before` for older records; null at the start of the log. */
  next: number | null
  /** Records looked at to fill the page. */
  scanned: number
}

export interface AuditVerifyView {
  ok: boolean
  records: number
  firstSeq: number | null
  headSeq: number | null
  checkpointsChecked: number
  /** The newest signed checkpoint the chain was checked against. */
  checkpoint: { seq: number; ts: string; kid: string } | null
  problem: { seq?: number; where: string; reason: string } | null
  checkedAt: number
  tookMs: number
}

export interface ApprovalsView {
  approvals: Approval[]
}

export interface Analytics {
  days: number
  since: number
  until: number
  totals: {
    suggestions: number
    accepted: number
    runs: number
    failedRuns: number
    blocked: number
  }
  /** Per UTC day (YYYY-MM-DD), AI suggestions by what the user did. */
  suggestionsPerDay: Array<{ day: string } & Record<SuggestionDecision, number>>
  acceptanceByMember: Array<{ user: string; suggestions: number; ran: number; rate: number }>
  acceptanceByModel: Array<{
    model: string
    suggestions: number
    ran: number
    rate: number
    p50Ms: number | null
    p95Ms: number | null
  }>
  topPatterns: Array<{ library: string; patternId: string; runs: number; failures: number }>
  failingPatterns: Array<{
    library: string
    patternId: string
    failures: number
    runs: number
    exitCodes: Array<{ code: number; n: number }>
  }>
  failingCommands: Array<{
    command: string
    failures: number
    exitCodes: Array<{ code: number; n: number }>
  }>
  riskOfRuns: Array<{ risk: Risk | 'unknown'; n: number }>
  latency: {
    count: number
    meanMs: number | null
    p50Ms: number | null
    p95Ms: number | null
    /** Histogram: suggestions whose latency was at most `upToMs` (null: above the last bound). */
    buckets: Array<{ upToMs: number | null; n: number }>
  }
  /** Milliseconds the server took to compute this. */
  tookMs: number
}

export const SUGGESTION_DECISIONS = ['ran', 'edited', 'copied', 'cancelled', 'blocked'] as const
export type SuggestionDecision = (typeof SUGGESTION_DECISIONS)[number]

/** Upper bounds (ms) of the latency histogram the server keeps; one more bucket is open-ended. */
export const LATENCY_BUCKETS_MS = [
  100, 200, 300, 500, 750, 1_000, 1_500, 2_000, 3_000, 5_000, 7_500, 10_000, 15_000, 30_000,
] as const

export interface WebhookView {
  id: string
  url: string
  format: 'slack' | 'json'
  events: WebhookEvent[]
  enabled: boolean
  description: string
  createdBy: string
  createdAt: number
  /** Newest deliveries' outcome. */
  lastDelivery: { status: DeliveryStatus; at: number } | null
}

export interface WebhookCreated {
  webhook: WebhookView
  /** Shown once: the HMAC-SHA256 key receivers verify signatures with. */
  secret: string
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed'

export interface DeliveryView {
  id: string
  webhookId: string
  event: WebhookEvent
  status: DeliveryStatus
  attempts: number
  createdAt: number
  nextAttemptAt: number | null
  deliveredAt: number | null
  /** HTTP status of the last attempt, when one answered. */
  lastStatus: number | null
  lastError: string | null
  /** The JSON body sent (what the receiver got). */
  payload: string
}
