/**
 * Team approvals, between the app (or `cmdai approval request`) and the team server: a member asks
 * to run one exact command; an admin or engineer of the team (never the requester) approves or
 * denies it with a comment; the requester may then run exactly that command until the approval
 * expires. The server records every request and decision in the team's audit log.
 *
 * HTTP (all with `Authorization: Bearer <token>`; the team and user come from the token):
 * - `POST APPROVAL_PATHS.list` with `approvalRequestSchema` → `Approval` (201)
 * - `GET APPROVAL_PATHS.list[?status=pending]` → `{ approvals: Approval[] }` (approvers see the
 *   team's, others their own)
 * - `GET APPROVAL_PATHS.list/<id>[?wait=<ms>]` → `Approval`, answered once it is no longer pending
 *   or after `wait` (long poll, at most `MAX_APPROVAL_WAIT_MS`)
 * - `POST APPROVAL_PATHS.list/<id>/decision` with `approvalDecisionSchema` → `Approval`
 * - `GET APPROVAL_PATHS.stream` → `text/event-stream`, one `approval` event (JSON `Approval`) per
 *   change the caller may see, and a comment line every 15 s.
 *
 * Free of Node-only imports: the renderer imports the types.
 */
import { z } from 'zod'
import { RISKS, SHELL_DIALECTS, type Risk, type ShellDialect } from './safety'
import { LIBRARY_NAME_RE, PATTERN_ID_RE, type Role } from './sync'

export const APPROVAL_PATHS = {
  list: '/api/v1/approvals',
  stream: '/api/v1/approvals-stream',
} as const

export const APPROVAL_STATUSES = ['pending', 'approved', 'denied', 'expired'] as const
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number]

/** How long a request waits for a decision, and how long an approval stays usable. */
export const DEFAULT_APPROVAL_TTL_MS = 24 * 3600_000
export const APPROVED_VALID_MS = 3600_000
export const MAX_APPROVAL_WAIT_MS = 60_000

export const approvalRequestSchema = z
  .object({
    command: z.string().min(1).max(16_384),
    shell: z.enum(SHELL_DIALECTS).default('bash'),
    reason: z.string().min(1).max(2_000),
    library: z.string().regex(LIBRARY_NAME_RE).optional(),
    patternId: z.string().regex(PATTERN_ID_RE).optional(),
    /** How long approvers have to decide (default 24 h, at most 7 days). */
    ttlMs: z
      .number()
      .int()
      .min(10_000)
      .max(7 * 24 * 3600_000)
      .optional(),
  })
  .strict()
export type ApprovalRequest = z.input<typeof approvalRequestSchema>

export const approvalDecisionSchema = z
  .object({
    decision: z.enum(['approve', 'deny']),
    comment: z.string().max(2_000).default(''),
  })
  .strict()

export interface Approval {
  id: string
  team: string
  /** The user who asked, from their token. */
  requester: string
  requesterRole: Role
  /** The command approved, as shown (secrets redacted). */
  command: string
  /** SHA-256 (hex) of the exact command text approved: any other text needs a new approval. */
  commandHash: string
  shell: ShellDialect
  reason: string
  library?: string
  patternId?: string
  /** The server's own verdict on the command (never the requester's word for it). */
  risk: Risk
  status: ApprovalStatus
  createdAt: number
  /** Pending until then; once approved, usable until `validUntil`. */
  expiresAt: number
  decidedBy?: string
  decidedAt?: number
  comment?: string
  /** Approved: the command may run until then. */
  validUntil?: number
}

export const approvalSchema: z.ZodType<Approval> = z
  .object({
    id: z.string().min(1).max(128),
    team: z.string().min(1).max(100),
    requester: z.string().min(1).max(200),
    requesterRole: z.enum(['admin', 'engineer', 'junior', 'readonly']),
    command: z.string().max(16_384),
    commandHash: z.string().regex(/^[0-9a-f]{64}$/),
    shell: z.enum(SHELL_DIALECTS),
    reason: z.string().max(2_000),
    library: z.string().max(100).optional(),
    patternId: z.string().max(100).optional(),
    risk: z.enum(RISKS),
    status: z.enum(APPROVAL_STATUSES),
    createdAt: z.number(),
    expiresAt: z.number(),
    decidedBy: z.string().max(200).optional(),
    decidedAt: z.number().optional(),
    comment: z.string().max(2_000).optional(),
    validUntil: z.number().optional(),
  })
  .strict()

/** True when the approval lets its requester run the command with this hash now. */
export function approvalCovers(
  approval: Approval,
  commandHash: string,
  shell: ShellDialect,
  now = Date.now(),
): boolean {
  return (
    approval.status === 'approved' &&
    approval.commandHash === commandHash &&
    approval.shell === shell &&
    (approval.validUntil ?? 0) > now
  )
}
