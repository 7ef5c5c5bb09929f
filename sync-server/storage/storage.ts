import * as Y from 'yjs'
import type { Role } from '../../contract/sync'
import { migrate } from './schema'
import type { SqlClient, SqlDatabase } from './sql-client'

export interface TeamRow {
  name: string
  createdAt: number
  retentionDays: number | null
}

export interface MemberRow {
  team: string
  user: string
  role: Role
  createdAt: number
  updatedAt: number
}

export interface TokenRow {
  jti: string
  team: string
  user: string
  role: Role
  label: string | null
  kid: string
  createdAt: number
  expiresAt: number
  revokedAt: number | null
}

export interface KeyRow {
  kid: string
  purpose: 'token' | 'audit'
  publicJwk: string
  privateJwk: string
  createdAt: number
}

export interface StoredEvent {
  id: string
  user: string
  kind: string
  ts: number
  event: string
}

/**
 * Everything the server keeps in its database, behind one interface: PGlite (embedded, `--data`)
 * and PostgreSQL (`--database-url`) run the same SQL. Methods take an optional transaction so a
 * group commit can write document updates, directory changes and (in Postgres mode) audit
 * records atomically.
 */
export interface Storage {
  readonly kind: 'pglite' | 'postgres'
  readonly sql: SqlDatabase
  /** Answers when the database does (readiness). */
  ping(): Promise<void>
  transaction<T>(fn: (tx: SqlClient) => Promise<T>, options?: { readOnly?: boolean }): Promise<T>

  /** Every stored update of a room, oldest first (a compacted snapshot is one of them). */
  loadDocument(room: string, tx?: SqlClient): Promise<Uint8Array[]>
  appendUpdates(updates: Array<{ room: string; data: Uint8Array }>, tx?: SqlClient): Promise<void>
  /** Merges a room's rows into one when there are at least `minRows`; returns rows merged. */
  compactDocument(room: string, minRows: number): Promise<number>
  /** Rooms with stored state, with their row counts. */
  listRooms(tx?: SqlClient): Promise<Array<{ room: string; rows: number }>>

  getTeam(name: string, tx?: SqlClient): Promise<TeamRow | null>
  listTeams(tx?: SqlClient): Promise<TeamRow[]>
  createTeam(name: string, tx?: SqlClient): Promise<boolean>
  setRetention(team: string, days: number | null, tx?: SqlClient): Promise<void>

  getMember(team: string, user: string, tx?: SqlClient): Promise<MemberRow | null>
  listMembers(team: string | null, tx?: SqlClient): Promise<MemberRow[]>
  /** Inserts or updates; returns the previous role (null when new). */
  upsertMember(team: string, user: string, role: Role, tx?: SqlClient): Promise<Role | null>
  removeMember(team: string, user: string, tx?: SqlClient): Promise<boolean>

  insertToken(row: TokenRow, tx?: SqlClient): Promise<void>
  getToken(jti: string, tx?: SqlClient): Promise<TokenRow | null>
  listTokens(filter: { team?: string; user?: string }, tx?: SqlClient): Promise<TokenRow[]>
  /** Revokes the given tokens (those not yet revoked); returns the jtis revoked now. */
  revokeTokens(jtis: string[], at: number, tx?: SqlClient): Promise<string[]>
  /** Current state of the given tokens and their members, for the revocation watcher. */
  tokenStatus(
    jtis: string[],
  ): Promise<Array<{ jti: string; revokedAt: number | null; memberRole: Role | null }>>

  listKeys(tx?: SqlClient): Promise<KeyRow[]>
  insertKey(row: KeyRow, tx?: SqlClient): Promise<void>

  /** Records client events; returns the ids that were new (replays are skipped). */
  insertEvents(team: string, events: StoredEvent[], tx?: SqlClient): Promise<Set<string>>
  close(): Promise<void>
}

type Row = Record<string, unknown>

const num = (v: unknown): number => Number(v)
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v))

function toTeam(r: Row): TeamRow {
  return {
    name: String(r.name),
    createdAt: num(r.created_at),
    retentionDays: numOrNull(r.retention_days),
  }
}

function toMember(r: Row): MemberRow {
  return {
    team: String(r.team),
    user: String(r.user_id),
    role: r.role as Role,
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  }
}

function toToken(r: Row): TokenRow {
  return {
    jti: String(r.jti),
    team: String(r.team),
    user: String(r.user_id),
    role: r.role as Role,
    label: r.label === null ? null : String(r.label),
    kid: String(r.kid),
    createdAt: num(r.created_at),
    expiresAt: num(r.expires_at),
    revokedAt: numOrNull(r.revoked_at),
  }
}

/** The Storage over a SQL database; migrates it first. */
export async function createSqlStorage(sql: SqlDatabase): Promise<Storage> {
  await migrate(sql)
  const q = (tx?: SqlClient): SqlClient => tx ?? sql
  const storage: Storage = {
    kind: sql.kind,
    sql,
    ping: async () => {
      await sql.query('SELECT 1')
    },
    transaction: (fn, options) => sql.transaction(fn, options),

    loadDocument: async (room, tx) => {
      const r = await q(tx).query<{ data: Uint8Array }>(
        'SELECT data FROM doc_updates WHERE room = $1 ORDER BY id',
        [room],
      )
      return r.rows.map((row) => new Uint8Array(row.data))
    },
    appendUpdates: async (updates, tx) => {
      if (updates.length === 0) return
      const now = Date.now()
      // One multi-row INSERT per batch (group commit): a round trip, not one per update.
      const values: string[] = []
      const params: unknown[] = []
      for (const u of updates) {
        params.push(u.room, u.data, now)
        values.push(`($${params.length - 2}, $${params.length - 1}, $${params.length})`)
      }
      await q(tx).query(
        `INSERT INTO doc_updates (room, data, created_at) VALUES ${values.join(', ')}`,
        params,
      )
    },
    compactDocument: async (room, minRows) =>
      sql.transaction(async (tx) => {
        const r = await tx.query<{ id_text: string; data: Uint8Array }>(
          'SELECT id::text AS id_text, data FROM doc_updates WHERE room = $1 ORDER BY id',
          [room],
        )
        if (r.rows.length < Math.max(2, minRows)) return 0
        // Through a Y.Doc (not mergeUpdates) so deleted content is garbage-collected; a row
        // that does not decode aborts the compaction and deletes nothing.
        const doc = new Y.Doc()
        try {
          for (const row of r.rows) Y.applyUpdate(doc, new Uint8Array(row.data))
          const merged = Y.encodeStateAsUpdate(doc)
          // Exactly the rows read: another instance may be inserting concurrently.
          await tx.query('DELETE FROM doc_updates WHERE room = $1 AND id = ANY($2::bigint[])', [
            room,
            r.rows.map((row) => row.id_text),
          ])
          await tx.query('INSERT INTO doc_updates (room, data, created_at) VALUES ($1, $2, $3)', [
            room,
            merged,
            Date.now(),
          ])
        } finally {
          doc.destroy()
        }
        return r.rows.length
      }),
    listRooms: async (tx) => {
      const r = await q(tx).query<{ room: string; n: number }>(
        'SELECT room, count(*)::int AS n FROM doc_updates GROUP BY room ORDER BY room',
      )
      return r.rows.map((row) => ({ room: row.room, rows: num(row.n) }))
    },

    getTeam: async (name, tx) => {
      const r = await q(tx).query<Row>('SELECT * FROM teams WHERE name = $1', [name])
      return r.rows[0] ? toTeam(r.rows[0]) : null
    },
    listTeams: async (tx) =>
      (await q(tx).query<Row>('SELECT * FROM teams ORDER BY name')).rows.map(toTeam),
    createTeam: async (name, tx) => {
      const r = await q(tx).query(
        'INSERT INTO teams (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING name',
        [name, Date.now()],
      )
      return r.rows.length === 1
    },
    setRetention: async (team, days, tx) => {
      await q(tx).query('UPDATE teams SET retention_days = $2 WHERE name = $1', [team, days])
    },

    getMember: async (team, user, tx) => {
      const r = await q(tx).query<Row>('SELECT * FROM members WHERE team = $1 AND user_id = $2', [
        team,
        user,
      ])
      return r.rows[0] ? toMember(r.rows[0]) : null
    },
    listMembers: async (team, tx) => {
      const r = team
        ? await q(tx).query<Row>('SELECT * FROM members WHERE team = $1 ORDER BY user_id', [team])
        : await q(tx).query<Row>('SELECT * FROM members ORDER BY team, user_id')
      return r.rows.map(toMember)
    },
    upsertMember: async (team, user, role, tx) => {
      const db = q(tx)
      const prev = await db.query<{ role: Role }>(
        'SELECT role FROM members WHERE team = $1 AND user_id = $2 FOR UPDATE',
        [team, user],
      )
      const now = Date.now()
      await db.query(
        `INSERT INTO members (team, user_id, role, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT (team, user_id) DO UPDATE SET role = EXCLUDED.role, updated_at = EXCLUDED.updated_at`,
        [team, user, role, now],
      )
      return prev.rows[0]?.role ?? null
    },
    removeMember: async (team, user, tx) => {
      const r = await q(tx).query(
        'DELETE FROM members WHERE team = $1 AND user_id = $2 RETURNING user_id',
        [team, user],
      )
      return r.rows.length === 1
    },

    insertToken: async (t, tx) => {
      await q(tx).query(
        `INSERT INTO tokens (jti, team, user_id, role, label, kid, created_at, expires_at, revoked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [t.jti, t.team, t.user, t.role, t.label, t.kid, t.createdAt, t.expiresAt, t.revokedAt],
      )
    },
    getToken: async (jti, tx) => {
      const r = await q(tx).query<Row>('SELECT * FROM tokens WHERE jti = $1', [jti])
      return r.rows[0] ? toToken(r.rows[0]) : null
    },
    listTokens: async (filter, tx) => {
      const r = await q(tx).query<Row>(
        `SELECT * FROM tokens WHERE ($1::text IS NULL OR team = $1) AND ($2::text IS NULL OR user_id = $2)
         ORDER BY created_at, jti`,
        [filter.team ?? null, filter.user ?? null],
      )
      return r.rows.map(toToken)
    },
    revokeTokens: async (jtis, at, tx) => {
      if (jtis.length === 0) return []
      const r = await q(tx).query<{ jti: string }>(
        'UPDATE tokens SET revoked_at = $2 WHERE jti = ANY($1::text[]) AND revoked_at IS NULL RETURNING jti',
        [jtis, at],
      )
      return r.rows.map((row) => row.jti)
    },
    tokenStatus: async (jtis) => {
      if (jtis.length === 0) return []
      const r = await sql.query<Row>(
        `SELECT t.jti, t.revoked_at, m.role AS member_role FROM tokens t
         LEFT JOIN members m ON m.team = t.team AND m.user_id = t.user_id
         WHERE t.jti = ANY($1::text[])`,
        [jtis],
      )
      return r.rows.map((row) => ({
        jti: String(row.jti),
        revokedAt: numOrNull(row.revoked_at),
        memberRole: (row.member_role as Role | null) ?? null,
      }))
    },

    listKeys: async (tx) => {
      const r = await q(tx).query<Row>('SELECT * FROM signing_keys ORDER BY created_at, kid')
      return r.rows.map((row) => ({
        kid: String(row.kid),
        purpose: row.purpose as KeyRow['purpose'],
        publicJwk: String(row.public_jwk),
        privateJwk: String(row.private_jwk),
        createdAt: num(row.created_at),
      }))
    },
    insertKey: async (k, tx) => {
      await q(tx).query(
        'INSERT INTO signing_keys (kid, purpose, public_jwk, private_jwk, created_at) VALUES ($1, $2, $3, $4, $5)',
        [k.kid, k.purpose, k.publicJwk, k.privateJwk, k.createdAt],
      )
    },

    insertEvents: async (team, events, tx) => {
      const fresh = new Set<string>()
      if (events.length === 0) return fresh
      const now = Date.now()
      const values: string[] = []
      const params: unknown[] = []
      for (const e of events) {
        params.push(team, e.id, e.user, e.kind, e.ts, now, e.event)
        const n = params.length
        values.push(`($${n - 6}, $${n - 5}, $${n - 4}, $${n - 3}, $${n - 2}, $${n - 1}, $${n})`)
      }
      const r = await q(tx).query<{ id: string }>(
        `INSERT INTO client_events (team, id, user_id, kind, ts, received_at, event)
         VALUES ${values.join(', ')} ON CONFLICT (team, id) DO NOTHING RETURNING id`,
        params,
      )
      for (const row of r.rows) fresh.add(row.id)
      return fresh
    },
    close: () => sql.close(),
  }
  return storage
}
