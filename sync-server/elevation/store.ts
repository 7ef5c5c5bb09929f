import {
  elevationPolicySchema,
  elevationSchema,
  type Elevation,
  type ElevationRule,
  type ElevationStatus,
} from '../../contract/identity'
import { readTeamRules, writeTeamRules } from '../oidc/team-rules'
import type { SqlClient } from '../storage/sql-client'

/**
 * Elevations in the server's database (`oidc/schema.ts`): the whole record as JSON, with the
 * columns the queries need beside it. Times are absolute (epoch ms), so an elevation ends on
 * time whatever restarts happen in between. A row that no longer reads back as an elevation is
 * left out (it grants nothing).
 */
type Row = Record<string, unknown>

function toElevation(r: Row): Elevation | null {
  try {
    const parsed = elevationSchema.safeParse(JSON.parse(String(r.body)))
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}

const list = (rows: Row[]) => rows.map(toElevation).filter((e): e is Elevation => e !== null)

export async function insertElevation(db: SqlClient, e: Elevation): Promise<void> {
  await db.query(
    `INSERT INTO elevations (id, team, user_id, status, requested_at, request_expires_at,
       starts_at, expires_at, closed_at, body)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      e.id,
      e.team,
      e.user,
      e.status,
      e.requestedAt,
      e.requestExpiresAt,
      e.startsAt ?? null,
      e.expiresAt ?? null,
      e.closedAt ?? null,
      JSON.stringify(e),
    ],
  )
}

/** Writes a changed elevation, only if its status is still `from` (the caller's read). */
export async function updateElevation(
  db: SqlClient,
  e: Elevation,
  from: ElevationStatus,
): Promise<boolean> {
  const r = await db.query(
    `UPDATE elevations SET status = $2, starts_at = $3, expires_at = $4, closed_at = $5, body = $6
     WHERE id = $1 AND status = $7 RETURNING id`,
    [
      e.id,
      e.status,
      e.startsAt ?? null,
      e.expiresAt ?? null,
      e.closedAt ?? null,
      JSON.stringify(e),
      from,
    ],
  )
  return r.rows.length === 1
}

/** One elevation, locked for the transaction (two approvers at once: one waits). */
export async function getElevation(
  db: SqlClient,
  id: string,
  lock = false,
): Promise<Elevation | null> {
  const r = await db.query<Row>(
    `SELECT body FROM elevations WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  )
  return r.rows[0] ? toElevation(r.rows[0]) : null
}

export async function listElevations(
  db: SqlClient,
  f: { team: string; user?: string; status?: ElevationStatus; limit?: number },
): Promise<Elevation[]> {
  const r = await db.query<Row>(
    `SELECT body FROM elevations WHERE team = $1 AND ($2::text IS NULL OR user_id = $2)
       AND ($3::text IS NULL OR status = $3)
     ORDER BY requested_at DESC, id LIMIT $4`,
    [f.team, f.user ?? null, f.status ?? null, f.limit ?? 200],
  )
  return list(r.rows)
}

/** The user's pending or active elevation in the team, if any. */
export async function openElevations(
  db: SqlClient,
  team: string,
  user: string,
  now: number,
): Promise<Elevation[]> {
  const r = await db.query<Row>(
    `SELECT body FROM elevations WHERE team = $1 AND user_id = $2
       AND ((status = 'pending' AND request_expires_at > $3) OR (status = 'active' AND expires_at > $3))`,
    [team, user, now],
  )
  return list(r.rows)
}

/** Every elevation in force now (the role cache). */
export async function activeElevations(db: SqlClient, now: number): Promise<Elevation[]> {
  const r = await db.query<Row>(
    `SELECT body FROM elevations WHERE status = 'active' AND expires_at > $1`,
    [now],
  )
  return list(r.rows)
}

/** Active elevations past their end, and pending requests past theirs, closed now. */
export async function closeDue(
  db: SqlClient,
  now: number,
): Promise<{ expired: Elevation[]; lapsed: Elevation[] }> {
  const due = await db.query<Row>(
    `SELECT body FROM elevations
     WHERE (status = 'active' AND expires_at <= $1) OR (status = 'pending' AND request_expires_at <= $1)
     FOR UPDATE`,
    [now],
  )
  const expired: Elevation[] = []
  const lapsed: Elevation[] = []
  for (const e of list(due.rows)) {
    const closed: Elevation =
      e.status === 'active'
        ? { ...e, status: 'expired', closedAt: e.expiresAt ?? now, closedBy: 'system' }
        : { ...e, status: 'lapsed', closedAt: e.requestExpiresAt, closedBy: 'system' }
    if (await updateElevation(db, closed, e.status))
      (closed.status === 'expired' ? expired : lapsed).push(closed)
  }
  return { expired, lapsed }
}

export async function getPolicy(db: SqlClient, team: string): Promise<ElevationRule[]> {
  return readTeamRules(db, 'elevation_policies', team, elevationPolicySchema)
}

export async function savePolicy(
  db: SqlClient,
  team: string,
  rules: ElevationRule[],
  by: string,
  now: number,
): Promise<void> {
  await writeTeamRules(db, 'elevation_policies', team, rules, by, now)
}
