import { approvalSchema, type Approval, type ApprovalStatus } from '../../contract/approvals'
import type { SqlClient } from '../storage/sql-client'

/**
 * Approvals in the server's database (PGlite or Postgres, the console's `approvals` table): a
 * request is stored in the same commit as its audit record, so a restart keeps what is pending,
 * and a decision is a conditional update (still pending, not expired), so two approvers, or two
 * server instances, cannot both decide one request.
 */
type Row = Record<string, unknown>

/** The immutable part of a request, kept as JSON. */
type RequestPart = Omit<Approval, 'status' | 'decidedBy' | 'decidedAt' | 'comment' | 'validUntil'>

const numOrUndef = (v: unknown) => (v === null || v === undefined ? undefined : Number(v))

function toApproval(r: Row): Approval | null {
  let request: RequestPart
  try {
    request = JSON.parse(String(r.request)) as RequestPart
  } catch {
    return null
  }
  const decidedAt = numOrUndef(r.decided_at)
  const validUntil = numOrUndef(r.valid_until)
  const parsed = approvalSchema.safeParse({
    ...request,
    status: String(r.status),
    ...(r.decided_by ? { decidedBy: String(r.decided_by) } : {}),
    ...(decidedAt !== undefined ? { decidedAt } : {}),
    ...(r.comment !== null && r.comment !== undefined ? { comment: String(r.comment) } : {}),
    ...(validUntil !== undefined ? { validUntil } : {}),
  })
  // A row that does not read back as an approval is left out rather than shown half.
  return parsed.success ? parsed.data : null
}

const rows = (list: Row[]) => list.map(toApproval).filter((a): a is Approval => a !== null)

export async function insertApproval(db: SqlClient, a: Approval): Promise<void> {
  const { status, decidedBy, decidedAt, comment, validUntil, ...request } = a
  void decidedBy
  void decidedAt
  void comment
  void validUntil
  await db.query(
    `INSERT INTO approvals (id, team, requester, status, created_at, expires_at, request)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [a.id, a.team, a.requester, status, a.createdAt, a.expiresAt, JSON.stringify(request)],
  )
}

export async function getApproval(db: SqlClient, id: string): Promise<Approval | null> {
  const r = await db.query<Row>('SELECT * FROM approvals WHERE id = $1', [id])
  return r.rows[0] ? toApproval(r.rows[0]) : null
}

export interface ApprovalFilter {
  team: string
  /** Only this requester's (members who cannot approve see their own). */
  requester?: string
  status?: ApprovalStatus
  limit?: number
}

export async function listApprovals(db: SqlClient, f: ApprovalFilter): Promise<Approval[]> {
  const r = await db.query<Row>(
    `SELECT * FROM approvals WHERE team = $1
       AND ($2::text IS NULL OR requester = $2) AND ($3::text IS NULL OR status = $3)
     ORDER BY created_at DESC, id LIMIT $4`,
    [f.team, f.requester ?? null, f.status ?? null, f.limit ?? 500],
  )
  return rows(r.rows)
}

export async function countPending(db: SqlClient, team: string): Promise<number> {
  const r = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM approvals WHERE team = $1 AND status = 'pending'`,
    [team],
  )
  return Number(r.rows[0]?.n ?? 0)
}

/** Decides a request that is still pending and unexpired; null when it no longer is. */
export async function decideApproval(
  db: SqlClient,
  id: string,
  d: {
    status: 'approved' | 'denied'
    by: string
    at: number
    comment: string
    validUntil?: number
  },
): Promise<Approval | null> {
  const r = await db.query<Row>(
    `UPDATE approvals SET status = $2, decided_by = $3, decided_at = $4, comment = $5,
       valid_until = $6
     WHERE id = $1 AND status = 'pending' AND expires_at > $4 RETURNING *`,
    [id, d.status, d.by, d.at, d.comment, d.validUntil ?? null],
  )
  return r.rows[0] ? toApproval(r.rows[0]) : null
}

/** Marks pending requests past their time as expired; returns them. */
export async function expireApprovals(db: SqlClient, now: number): Promise<Approval[]> {
  const r = await db.query<Row>(
    `UPDATE approvals SET status = 'expired'
     WHERE status = 'pending' AND expires_at <= $1 RETURNING *`,
    [now],
  )
  return rows(r.rows)
}

/** Forgets decided requests older than `before` (the audit log keeps them). */
export async function purgeApprovals(db: SqlClient, before: number): Promise<number> {
  const r = await db.query(
    `DELETE FROM approvals WHERE status <> 'pending' AND coalesce(decided_at, expires_at) < $1
     RETURNING id`,
    [before],
  )
  return r.rows.length
}
