import { createHash, randomBytes } from 'node:crypto'
import { mappingSchema, type MappingRule } from '../../contract/identity'
import { roleSchema, type Role } from '../../contract/sync'
import type { SqlClient } from '../storage/sql-client'
import { parseRules, readTeamRules, writeTeamRules } from './team-rules'

/**
 * SQL of the sign-in tables (`schema.ts`). Flows and refresh tokens are found by the SHA-256 of
 * their secret; single use is a conditional update, so a replayed state, code or refresh token
 * (or two racing uses of one) finds nothing left to spend.
 */
export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')
export const secret = (bytes = 32): string => randomBytes(bytes).toString('base64url')

export type FlowKind = 'console' | 'app' | 'device'
export type FlowStatus = 'started' | 'authorized' | 'used' | 'failed'

/** What the IdP said about the user, kept with the flow until it is used (minutes). */
export interface FlowIdentity {
  issuer: string
  subject: string
  user: string
  claims: Record<string, unknown>
  idpRefresh: string | null
}

export interface FlowRow {
  idHash: string
  kind: FlowKind
  nonce: string
  verifier: string
  team: string | null
  clientRedirect: string | null
  clientState: string | null
  clientChallenge: string | null
  deviceCode: string | null
  deviceInterval: number | null
  status: FlowStatus
  identity: FlowIdentity | null
  sessionId: string | null
  createdAt: number
  expiresAt: number
  polledAt: number | null
}

type Row = Record<string, unknown>
const str = (v: unknown) => (v === null || v === undefined ? null : String(v))
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v))

function toFlow(r: Row): FlowRow {
  let identity: FlowIdentity | null = null
  if (r.identity) {
    try {
      identity = JSON.parse(String(r.identity)) as FlowIdentity
    } catch {
      identity = null
    }
  }
  return {
    idHash: String(r.id_hash),
    kind: String(r.kind) as FlowKind,
    nonce: String(r.nonce),
    verifier: String(r.verifier),
    team: str(r.team),
    clientRedirect: str(r.client_redirect),
    clientState: str(r.client_state),
    clientChallenge: str(r.client_challenge),
    deviceCode: str(r.device_code),
    deviceInterval: num(r.device_interval),
    status: String(r.status) as FlowStatus,
    identity,
    sessionId: str(r.session_id),
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    polledAt: num(r.polled_at),
  }
}

export async function insertFlow(
  db: SqlClient,
  f: Omit<FlowRow, 'status' | 'identity' | 'sessionId' | 'polledAt'>,
): Promise<void> {
  await db.query(
    `INSERT INTO sso_flows (id_hash, kind, nonce, verifier, team, client_redirect, client_state,
       client_challenge, device_code, device_interval, status, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'started', $11, $12)`,
    [
      f.idHash,
      f.kind,
      f.nonce,
      f.verifier,
      f.team,
      f.clientRedirect,
      f.clientState,
      f.clientChallenge,
      f.deviceCode,
      f.deviceInterval,
      f.createdAt,
      f.expiresAt,
    ],
  )
}

/** The flow a callback's state names, spent now (null: unknown, used or expired). */
export async function takeStartedFlow(
  db: SqlClient,
  state: string,
  now: number,
): Promise<FlowRow | null> {
  const r = await db.query<Row>(
    `UPDATE sso_flows SET status = 'failed', used_at = $2
     WHERE id_hash = $1 AND status = 'started' AND kind <> 'device' AND expires_at > $2
     RETURNING *`,
    [sha256(state), now],
  )
  return r.rows[0] ? toFlow(r.rows[0]) : null
}

/** Records the IdP's answer on a flow; `code` (app flows, team choice) is what redeems it. */
export async function authorizeFlow(
  db: SqlClient,
  idHash: string,
  identity: FlowIdentity,
  code: string | null,
  expiresAt: number,
): Promise<void> {
  await db.query(
    `UPDATE sso_flows SET status = 'authorized', identity = $2, code_hash = $3, expires_at = $4,
       used_at = NULL
     WHERE id_hash = $1`,
    [idHash, JSON.stringify(identity), code ? sha256(code) : null, expiresAt],
  )
}

/** The authorized flow a code redeems, spent now; null when unknown, spent or expired. */
export async function takeCode(db: SqlClient, code: string, now: number): Promise<FlowRow | null> {
  const r = await db.query<Row>(
    `UPDATE sso_flows SET status = 'used', used_at = $2
     WHERE code_hash = $1 AND status = 'authorized' AND expires_at > $2 RETURNING *`,
    [sha256(code), now],
  )
  return r.rows[0] ? toFlow(r.rows[0]) : null
}

/** Looks a code up without spending it (a replay: which session did it make?). */
export async function findByCode(db: SqlClient, code: string): Promise<FlowRow | null> {
  const r = await db.query<Row>('SELECT * FROM sso_flows WHERE code_hash = $1', [sha256(code)])
  return r.rows[0] ? toFlow(r.rows[0]) : null
}

/** Puts a code back (the request failed for a reason the client can fix, such as no team). */
export async function unspendCode(db: SqlClient, idHash: string): Promise<void> {
  await db.query(
    `UPDATE sso_flows SET status = 'authorized', used_at = NULL WHERE id_hash = $1 AND status = 'used'`,
    [idHash],
  )
}

export async function setFlowSession(db: SqlClient, idHash: string, sid: string): Promise<void> {
  await db.query('UPDATE sso_flows SET session_id = $2 WHERE id_hash = $1', [idHash, sid])
}

export async function getFlow(db: SqlClient, handle: string): Promise<FlowRow | null> {
  const r = await db.query<Row>('SELECT * FROM sso_flows WHERE id_hash = $1', [sha256(handle)])
  return r.rows[0] ? toFlow(r.rows[0]) : null
}

/** Marks a device flow polled now, unless it was polled less than `interval` ago (slow down). */
export async function markPolled(
  db: SqlClient,
  idHash: string,
  now: number,
  intervalMs: number,
): Promise<boolean> {
  const r = await db.query(
    `UPDATE sso_flows SET polled_at = $2
     WHERE id_hash = $1 AND (polled_at IS NULL OR polled_at <= $3) RETURNING id_hash`,
    [idHash, now, now - intervalMs],
  )
  return r.rows.length === 1
}

export async function setDeviceInterval(db: SqlClient, idHash: string, s: number): Promise<void> {
  await db.query('UPDATE sso_flows SET device_interval = $2 WHERE id_hash = $1', [idHash, s])
}

export async function failFlow(db: SqlClient, idHash: string, now: number): Promise<void> {
  await db.query(`UPDATE sso_flows SET status = 'failed', used_at = $2 WHERE id_hash = $1`, [
    idHash,
    now,
  ])
}

export async function purgeFlows(db: SqlClient, before: number): Promise<void> {
  await db.query('DELETE FROM sso_flows WHERE expires_at < $1', [before])
}

// --- sessions --------------------------------------------------------------------------------

export interface SessionRow {
  id: string
  team: string
  user: string
  issuer: string
  subject: string
  via: FlowKind
  role: Role
  idpRefresh: string | null
  consoleSession: string | null
  createdAt: number
  expiresAt: number
  refreshedAt: number
  revokedAt: number | null
  revokedReason: string | null
}

function toSession(r: Row): SessionRow {
  return {
    id: String(r.id),
    team: String(r.team),
    user: String(r.user_id),
    issuer: String(r.issuer),
    subject: String(r.subject),
    via: String(r.via) as FlowKind,
    role: roleSchema.catch('readonly').parse(r.role),
    idpRefresh: str(r.idp_refresh),
    consoleSession: str(r.console_session),
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    refreshedAt: Number(r.refreshed_at),
    revokedAt: num(r.revoked_at),
    revokedReason: str(r.revoked_reason),
  }
}

export async function insertSession(db: SqlClient, s: SessionRow): Promise<void> {
  await db.query(
    `INSERT INTO sso_sessions (id, team, user_id, issuer, subject, via, role, idp_refresh,
       console_session, created_at, expires_at, refreshed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [
      s.id,
      s.team,
      s.user,
      s.issuer,
      s.subject,
      s.via,
      s.role,
      s.idpRefresh,
      s.consoleSession,
      s.createdAt,
      s.expiresAt,
      s.refreshedAt,
    ],
  )
}

export async function getSession(db: SqlClient, id: string): Promise<SessionRow | null> {
  const r = await db.query<Row>('SELECT * FROM sso_sessions WHERE id = $1', [id])
  return r.rows[0] ? toSession(r.rows[0]) : null
}

export async function updateSession(
  db: SqlClient,
  id: string,
  patch: { role: Role; idpRefresh: string | null; refreshedAt: number },
): Promise<void> {
  await db.query(
    'UPDATE sso_sessions SET role = $2, idp_refresh = $3, refreshed_at = $4 WHERE id = $1',
    [id, patch.role, patch.idpRefresh, patch.refreshedAt],
  )
}

export async function setConsoleSession(db: SqlClient, id: string, cs: string): Promise<void> {
  await db.query('UPDATE sso_sessions SET console_session = $2 WHERE id = $1', [id, cs])
}

/** Revokes live sessions (by id, or all of a user in a team); returns those revoked now. */
export async function revokeSessions(
  db: SqlClient,
  which: { id: string } | { team: string; user: string },
  now: number,
  reason: string,
): Promise<SessionRow[]> {
  const r =
    'id' in which
      ? await db.query<Row>(
          `UPDATE sso_sessions SET revoked_at = $2, revoked_reason = $3
           WHERE id = $1 AND revoked_at IS NULL RETURNING *`,
          [which.id, now, reason],
        )
      : await db.query<Row>(
          `UPDATE sso_sessions SET revoked_at = $3, revoked_reason = $4
           WHERE team = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING *`,
          [which.team, which.user, now, reason],
        )
  return r.rows.map(toSession)
}

/** Console sessions made through SSO that are due for a check with the IdP. */
export async function dueConsoleSessions(
  db: SqlClient,
  refreshedBefore: number,
  now: number,
): Promise<SessionRow[]> {
  const r = await db.query<Row>(
    `SELECT * FROM sso_sessions WHERE via = 'console' AND revoked_at IS NULL AND expires_at > $2
       AND refreshed_at < $1 ORDER BY refreshed_at LIMIT 100`,
    [refreshedBefore, now],
  )
  return r.rows.map(toSession)
}

// --- refresh tokens --------------------------------------------------------------------------

export async function insertRefreshToken(
  db: SqlClient,
  sessionId: string,
  now: number,
  expiresAt: number,
): Promise<string> {
  const token = `${sessionId}.${secret(32)}`
  await db.query(
    'INSERT INTO sso_refresh_tokens (hash, session_id, created_at, expires_at) VALUES ($1, $2, $3, $4)',
    [sha256(token), sessionId, now, expiresAt],
  )
  return token
}

export type RefreshLookup =
  | { status: 'ok'; sessionId: string }
  | { status: 'unknown' }
  | { status: 'expired'; sessionId: string }
  /** Used before: someone holds an old token (a stolen copy, or a replay). */
  | { status: 'reused'; sessionId: string }

/** Spends a refresh token (conditional update: exactly one use wins). */
export async function spendRefreshToken(
  db: SqlClient,
  token: string,
  now: number,
): Promise<RefreshLookup> {
  const hash = sha256(token)
  const spent = await db.query<Row>(
    `UPDATE sso_refresh_tokens SET used_at = $2
     WHERE hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING session_id`,
    [hash, now],
  )
  if (spent.rows[0]) return { status: 'ok', sessionId: String(spent.rows[0].session_id) }
  const r = await db.query<Row>('SELECT * FROM sso_refresh_tokens WHERE hash = $1', [hash])
  const row = r.rows[0]
  if (!row) return { status: 'unknown' }
  if (row.used_at !== null) return { status: 'reused', sessionId: String(row.session_id) }
  return { status: 'expired', sessionId: String(row.session_id) }
}

/** Puts a spent refresh token back (the IdP could not be reached: the client may retry). */
export async function unspendRefreshToken(db: SqlClient, token: string): Promise<void> {
  await db.query('UPDATE sso_refresh_tokens SET used_at = NULL WHERE hash = $1', [sha256(token)])
}

export async function purgeRefreshTokens(db: SqlClient, before: number): Promise<void> {
  await db.query('DELETE FROM sso_refresh_tokens WHERE expires_at < $1', [before])
}

// --- identities and mappings -----------------------------------------------------------------

/**
 * Binds (issuer, subject) to a user id on first sign-in; later sign-ins get the bound id. Null
 * when the id is already bound to another account (an email reused or changed at the IdP).
 */
export async function bindIdentity(
  db: SqlClient,
  issuer: string,
  subject: string,
  user: string,
  now: number,
): Promise<string | null> {
  const known = await db.query<{ user_id: string }>(
    'SELECT user_id FROM sso_identities WHERE issuer = $1 AND subject = $2',
    [issuer, subject],
  )
  if (known.rows[0]) return String(known.rows[0].user_id)
  const r = await db.query(
    `INSERT INTO sso_identities (issuer, subject, user_id, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT DO NOTHING RETURNING user_id`,
    [issuer, subject, user, now],
  )
  return r.rows.length === 1 ? user : null
}

export async function getMapping(db: SqlClient, team: string): Promise<MappingRule[]> {
  return readTeamRules(db, 'sso_mappings', team, mappingSchema)
}

export async function allMappings(db: SqlClient): Promise<Map<string, MappingRule[]>> {
  const r = await db.query<{ team: string; rules: string }>(
    'SELECT team, rules FROM sso_mappings ORDER BY team',
  )
  return new Map(r.rows.map((row) => [String(row.team), parseRules(row.rules, mappingSchema)]))
}

export async function saveMapping(
  db: SqlClient,
  team: string,
  rules: MappingRule[],
  by: string,
  now: number,
): Promise<void> {
  await writeTeamRules(db, 'sso_mappings', team, rules, by, now)
}
