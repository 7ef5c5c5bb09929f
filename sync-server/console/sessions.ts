import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { CONSOLE_COOKIE, CONSOLE_PATHS } from '../../contract/console'
import type { Role } from '../../contract/sync'
import type { AuditDraft } from '../audit/chain'
import type { CommitEntry } from '../rooms/committer'
import type { SqlClient } from '../storage/sql-client'
import type { Storage } from '../storage/storage'
import { isHttps } from './http'

/**
 * Console sign-in: a one-time code (printed by `cmdai-sync admin-url`, valid minutes, usable once)
 * is traded for a session whose id and secret travel in an HttpOnly, SameSite=Strict cookie.
 * Only hashes of codes and secrets are stored. A session carries its CSRF token; its role is the
 * member's current role, read on every request, so a demotion or removal applies at once.
 */
export const SIGNIN_CODE_TTL_MS = 10 * 60_000
export const SESSION_TTL_MS = 12 * 3600_000

export interface ConsoleSessionRow {
  id: string
  team: string
  user: string
  role: Role
  csrf: string
  ip: string
  createdAt: number
  expiresAt: number
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')
const token = (bytes: number) => randomBytes(bytes).toString('base64url')

export interface SessionDeps {
  storage: Storage
  commit(entry: CommitEntry): Promise<void>
  now(): number
}

/** Issues a one-time sign-in code for a member of the team; throws when there is none. */
export async function issueSigninCode(
  deps: SessionDeps,
  input: { team: string; user: string; createdBy: string; ttlMs?: number },
): Promise<{ code: string; expiresAt: number; role: Role }> {
  const member = await deps.storage.getMember(input.team, input.user)
  if (!member) throw new Error(`${input.user} is not a member of ${input.team}`)
  const code = token(32)
  const now = deps.now()
  const expiresAt = now + (input.ttlMs ?? SIGNIN_CODE_TTL_MS)
  await deps.commit({
    run: async (tx) => {
      await tx.query(
        `INSERT INTO console_signin_codes (code_hash, team, user_id, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [sha256(code), input.team, input.user, input.createdBy, now, expiresAt],
      )
      return [
        {
          team: input.team,
          kind: 'console.signin',
          actor: input.createdBy,
          data: {
            step: 'link-issued',
            user: input.user,
            expiresAt: new Date(expiresAt).toISOString(),
          },
        },
      ]
    },
  })
  return { code, expiresAt, role: member.role }
}

/**
 * Trades a code for a new session, once: the code is spent in the same commit that creates the
 * session and records the sign-in. Null for an unknown, used or expired code.
 */
export async function exchangeSigninCode(
  deps: SessionDeps,
  code: string,
  ip: string,
): Promise<OpenedSession | null> {
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(code)) return null
  const now = deps.now()
  let opened: OpenedSession | null = null
  await deps.commit({
    run: async (tx) => {
      // Conditional: a second use of the code (or a race of two) finds nothing to spend.
      const r = await tx.query<{ team: string; user_id: string }>(
        `UPDATE console_signin_codes SET used_at = $2
         WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING team, user_id`,
        [sha256(code), now],
      )
      const row = r.rows[0]
      if (!row) return []
      const started = await startSession(deps, tx, row.team, row.user_id, ip, 'admin-url')
      if (!started) return []
      opened = started.opened
      return started.drafts
    },
  })
  return opened
}

export interface OpenedSession {
  session: ConsoleSessionRow
  /** The cookie's value (`<id>.<secret>`): set it with `sessionCookie`. */
  cookie: string
}

/**
 * Opens a console session for a member who signed in some other way (the SSO issue's IdP
 * sign-in uses this), in one commit with its `console.signin` record; null for a non-member.
 */
export async function openConsoleSession(
  deps: SessionDeps,
  input: { team: string; user: string; ip: string; via: string },
): Promise<OpenedSession | null> {
  let opened: OpenedSession | null = null
  await deps.commit({
    run: async (tx) => {
      const started = await startSession(deps, tx, input.team, input.user, input.ip, input.via)
      if (!started) return []
      opened = started.opened
      return started.drafts
    },
  })
  return opened
}

async function startSession(
  deps: SessionDeps,
  tx: SqlClient,
  team: string,
  user: string,
  ip: string,
  via: string,
): Promise<{ opened: OpenedSession; drafts: AuditDraft[] } | null> {
  const member = await deps.storage.getMember(team, user, tx)
  if (!member) return null
  const now = deps.now()
  const id = token(12)
  const secret = token(32)
  const csrf = token(24)
  const expiresAt = now + SESSION_TTL_MS
  await tx.query(
    `INSERT INTO console_sessions (id, secret_hash, team, user_id, csrf, ip, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [id, sha256(secret), team, user, csrf, ip, now, expiresAt],
  )
  return {
    opened: {
      session: { id, team, user, role: member.role, csrf, ip, createdAt: now, expiresAt },
      cookie: `${id}.${secret}`,
    },
    drafts: [
      {
        team,
        kind: 'console.signin',
        actor: user,
        role: member.role,
        data: { step: 'session', session: id, ip, via },
      },
    ],
  }
}

/** The live session a cookie value names, with the member's current role; null otherwise. */
export async function readSession(
  deps: Pick<SessionDeps, 'storage' | 'now'>,
  cookie: string | undefined,
): Promise<ConsoleSessionRow | null> {
  const m = /^([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})$/.exec(cookie ?? '')
  if (!m) return null
  // One round trip: the session and the member's current role (none once removed).
  const r = await deps.storage.sql.query<Record<string, unknown>>(
    `SELECT s.*, m.role AS member_role FROM console_sessions s
     LEFT JOIN members m ON m.team = s.team AND m.user_id = s.user_id WHERE s.id = $1`,
    [m[1]],
  )
  const row = r.rows[0]
  if (!row) return null
  const given = Buffer.from(sha256(m[2]!))
  const stored = Buffer.from(String(row.secret_hash))
  if (given.length !== stored.length || !timingSafeEqual(given, stored)) return null
  if (row.ended_at !== null || Number(row.expires_at) <= deps.now()) return null
  if (!row.member_role) return null
  return {
    id: String(row.id),
    team: String(row.team),
    user: String(row.user_id),
    role: row.member_role as Role,
    csrf: String(row.csrf),
    ip: String(row.ip),
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
  }
}

/** Ends a session (sign-out, or an admin ending it); false when it was not live. */
export async function endSession(
  tx: SqlClient,
  team: string,
  id: string,
  now: number,
): Promise<boolean> {
  const r = await tx.query(
    'UPDATE console_sessions SET ended_at = $3 WHERE id = $1 AND team = $2 AND ended_at IS NULL RETURNING id',
    [id, team, now],
  )
  return r.rows.length === 1
}

export async function liveSessions(
  db: SqlClient,
  team: string,
  now: number,
): Promise<Array<Omit<ConsoleSessionRow, 'role' | 'csrf'>>> {
  const r = await db.query<Record<string, unknown>>(
    `SELECT id, team, user_id, ip, created_at, expires_at FROM console_sessions
     WHERE team = $1 AND ended_at IS NULL AND expires_at > $2 ORDER BY created_at DESC LIMIT 500`,
    [team, now],
  )
  return r.rows.map((row) => ({
    id: String(row.id),
    team: String(row.team),
    user: String(row.user_id),
    ip: String(row.ip),
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
  }))
}

/** The Set-Cookie value for a session (or to clear it with `maxAge` 0). */
export function sessionCookie(value: string, maxAgeMs: number, secure: boolean): string {
  return [
    `${CONSOLE_COOKIE}=${value}`,
    'HttpOnly',
    'SameSite=Strict',
    'Path=/admin',
    `Max-Age=${Math.max(0, Math.floor(maxAgeMs / 1000))}`,
    ...(secure ? ['Secure'] : []),
  ].join('; ')
}

/** Answers with the new session's cookie and sends the browser into the console. */
export function redirectIntoConsole(
  req: IncomingMessage,
  res: ServerResponse,
  cookie: string,
): void {
  res.writeHead(303, {
    location: CONSOLE_PATHS.app,
    'set-cookie': sessionCookie(cookie, SESSION_TTL_MS, isHttps(req)),
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
  })
  res.end()
}

/** Constant-time comparison of a CSRF header with the session's token. */
export function csrfMatches(given: string | undefined, expected: string): boolean {
  if (!given) return false
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}
