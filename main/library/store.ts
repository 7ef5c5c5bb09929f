import { PGlite } from '@electric-sql/pglite'
import { chmodSync, existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import * as Y from 'yjs'
import { acquireLock, type HeldLock } from '../history/lock'
import { createDatabaseInWorker } from '../config/initdb-worker'

/**
 * Local persistence of the library documents, in an embedded Postgres (PGlite) of its own at
 * `<data>/library/db`, beside history's. A separate database rather than tables in history's:
 * it opens (and is locked) independently, so libraries are editable while history still loads
 * its search index, and neither blocks the other's CLI.
 *
 * Every document change is one row of `doc_updates` (a Yjs update). An edit is acknowledged only
 * once its row is committed; concurrent writes are committed together (group commit). Documents
 * with many rows are compacted into one merged update in the background.
 */

const MIGRATIONS = [
  `CREATE TABLE docs (
     id text PRIMARY KEY,
     kind text NOT NULL,
     config text NOT NULL DEFAULT '{}',
     created_at bigint NOT NULL
   );
   CREATE TABLE doc_updates (
     seq bigserial PRIMARY KEY,
     doc text NOT NULL,
     data bytea NOT NULL,
     at bigint NOT NULL
   );
   CREATE INDEX doc_updates_doc ON doc_updates (doc, seq);
   CREATE TABLE event_queue (
     id text PRIMARY KEY,
     server text NOT NULL,
     team text NOT NULL,
     body text NOT NULL,
     created_at bigint NOT NULL,
     attempts integer NOT NULL DEFAULT 0,
     last_error text
   );
   CREATE TABLE conflicts (
     doc text NOT NULL,
     pattern text NOT NULL,
     field text NOT NULL,
     body text NOT NULL,
     PRIMARY KEY (doc, pattern, field)
   );
   CREATE TABLE approved_commands (
     doc text NOT NULL,
     command text NOT NULL,
     approved_at bigint NOT NULL,
     PRIMARY KEY (doc, command)
   );
   CREATE TABLE pattern_runs (
     id bigserial PRIMARY KEY,
     doc text NOT NULL,
     pattern text NOT NULL,
     command text NOT NULL,
     shell text NOT NULL,
     pty text NOT NULL,
     started_at bigint NOT NULL,
     approval_id text,
     history_id bigint,
     exit_code integer,
     duration_ms bigint
   );
   CREATE TABLE team_state (
     team text PRIMARY KEY,
     body text NOT NULL
   );`,
]

export interface DocRow {
  id: string
  kind: 'personal' | 'team' | 'policy'
  config: Record<string, unknown>
}

export interface QueuedEvent {
  id: string
  server: string
  team: string
  body: string
  attempts: number
}

export interface PatternRun {
  id: number
  doc: string
  pattern: string
  command: string
  shell: string
  pty: string
  startedAt: number
  approvalId: string | null
  historyId: number | null
  exitCode: number | null
}

const COMPACT_AFTER = 200

export class LibraryStore {
  private pending: Array<{ doc: string; data: Uint8Array; done: (err?: unknown) => void }> = []
  private flushing: Promise<void> | null = null
  private closed = false

  private constructor(
    readonly db: PGlite,
    private readonly lock: HeldLock,
  ) {}

  /** Opens (creating, 0700) `<dir>/db`; one process at a time (`<dir>/lock`). */
  static async open(dir: string, owner: 'app' | 'cli' = 'app'): Promise<LibraryStore> {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    chmodSync(dir, 0o700)
    const lock = acquireLock(join(dir, 'lock'), owner)
    try {
      // A new database is created (initdb, seconds of CPU) on a worker thread.
      if (!existsSync(join(dir, 'db', 'PG_VERSION'))) await createDatabaseInWorker(join(dir, 'db'))
      const db = await PGlite.create({ dataDir: join(dir, 'db') })
      chmodSync(join(dir, 'db'), 0o700)
      await migrate(db)
      return new LibraryStore(db, lock)
    } catch (err) {
      lock.release()
      throw err
    }
  }

  async docs(): Promise<DocRow[]> {
    const r = await this.db.query<{ id: string; kind: DocRow['kind']; config: string }>(
      'SELECT id, kind, config FROM docs ORDER BY created_at, id',
    )
    return r.rows.map((row) => ({
      ...row,
      config: JSON.parse(row.config) as Record<string, unknown>,
    }))
  }

  async upsertDoc(row: DocRow): Promise<void> {
    await this.db.query(
      `INSERT INTO docs (id, kind, config, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, config = EXCLUDED.config`,
      [row.id, row.kind, JSON.stringify(row.config), Date.now()],
    )
  }

  /** Removes a document and everything stored for it. */
  async removeDoc(id: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      for (const table of ['doc_updates', 'conflicts', 'approved_commands'])
        await tx.query(`DELETE FROM ${table} WHERE doc = $1`, [id])
      await tx.query('DELETE FROM docs WHERE id = $1', [id])
    })
  }

  /** The stored state of a document as one update (empty document: an empty update). */
  async loadDoc(id: string): Promise<Uint8Array[]> {
    const r = await this.db.query<{ data: Uint8Array }>(
      'SELECT data FROM doc_updates WHERE doc = $1 ORDER BY seq',
      [id],
    )
    return r.rows.map((row) => row.data)
  }

  /** Stores one update; resolves once it is committed (the edit is then acknowledged). */
  appendUpdate(doc: string, data: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new Error('The library store is closed'))
    return new Promise((resolve, reject) => {
      this.pending.push({ doc, data, done: (err) => (err ? reject(err) : resolve()) })
      void this.flush()
    })
  }

  private async flush(): Promise<void> {
    if (this.flushing) return this.flushing
    this.flushing = (async () => {
      while (this.pending.length > 0) {
        const batch = this.pending
        this.pending = []
        try {
          const at = Date.now()
          await this.db.transaction(async (tx) => {
            for (const item of batch)
              await tx.query('INSERT INTO doc_updates (doc, data, at) VALUES ($1, $2, $3)', [
                item.doc,
                item.data,
                at,
              ])
          })
          for (const item of batch) item.done()
        } catch (err) {
          for (const item of batch) item.done(err)
        }
      }
    })().finally(() => {
      this.flushing = null
    })
    return this.flushing
  }

  /** Merges a document's rows into one when there are many (keeps every edit, fewer rows). */
  async compact(doc: string, force = false): Promise<boolean> {
    await this.flush()
    return this.db.transaction(async (tx) => {
      const r = await tx.query<{ seq: number; data: Uint8Array }>(
        'SELECT seq::float8 AS seq, data FROM doc_updates WHERE doc = $1 ORDER BY seq',
        [doc],
      )
      if (r.rows.length < (force ? 2 : COMPACT_AFTER)) return false
      const merged = Y.mergeUpdates(r.rows.map((row) => row.data))
      const last = r.rows[r.rows.length - 1]!.seq
      await tx.query('DELETE FROM doc_updates WHERE doc = $1 AND seq <= $2', [doc, last])
      await tx.query('INSERT INTO doc_updates (doc, data, at) VALUES ($1, $2, $3)', [
        doc,
        merged,
        Date.now(),
      ])
      return true
    })
  }

  async updateCount(doc: string): Promise<number> {
    const r = await this.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM doc_updates WHERE doc = $1',
      [doc],
    )
    return r.rows[0]?.n ?? 0
  }

  // --- offline event queue -------------------------------------------------------------------

  async enqueueEvent(e: { id: string; server: string; team: string; body: string }): Promise<void> {
    await this.db.query(
      `INSERT INTO event_queue (id, server, team, body, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (id) DO NOTHING`,
      [e.id, e.server, e.team, e.body, Date.now()],
    )
  }

  async queuedEvents(limit: number): Promise<QueuedEvent[]> {
    const r = await this.db.query<QueuedEvent>(
      'SELECT id, server, team, body, attempts FROM event_queue ORDER BY created_at, id LIMIT $1',
      [limit],
    )
    return r.rows
  }

  async dropEvents(ids: string[]): Promise<void> {
    if (ids.length === 0) return
    await this.db.query('DELETE FROM event_queue WHERE id = ANY($1)', [ids])
  }

  async eventFailed(ids: string[], error: string): Promise<void> {
    if (ids.length === 0) return
    await this.db.query(
      'UPDATE event_queue SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1)',
      [ids, error.slice(0, 500)],
    )
  }

  async queuedCount(): Promise<number> {
    const r = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM event_queue')
    return r.rows[0]?.n ?? 0
  }

  // --- conflicts, approved value commands, runs, team state ----------------------------------

  async saveConflict(doc: string, pattern: string, field: string, body: unknown): Promise<void> {
    await this.db.query(
      `INSERT INTO conflicts (doc, pattern, field, body) VALUES ($1, $2, $3, $4)
       ON CONFLICT (doc, pattern, field) DO UPDATE SET body = EXCLUDED.body`,
      [doc, pattern, field, JSON.stringify(body)],
    )
  }

  async deleteConflict(doc: string, pattern: string, field: string): Promise<void> {
    await this.db.query('DELETE FROM conflicts WHERE doc = $1 AND pattern = $2 AND field = $3', [
      doc,
      pattern,
      field,
    ])
  }

  async conflicts(doc: string): Promise<unknown[]> {
    const r = await this.db.query<{ body: string }>(
      'SELECT body FROM conflicts WHERE doc = $1 ORDER BY pattern, field',
      [doc],
    )
    return r.rows.map((row) => JSON.parse(row.body) as unknown)
  }

  async isCommandApproved(doc: string, command: string): Promise<boolean> {
    const r = await this.db.query(
      'SELECT 1 FROM approved_commands WHERE doc = $1 AND command = $2',
      [doc, command],
    )
    return r.rows.length > 0
  }

  async approveCommand(doc: string, command: string): Promise<void> {
    await this.db.query(
      `INSERT INTO approved_commands (doc, command, approved_at) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING`,
      [doc, command, Date.now()],
    )
  }

  async recordRun(run: Omit<PatternRun, 'id' | 'historyId' | 'exitCode'>): Promise<number> {
    const r = await this.db.query<{ id: number }>(
      `INSERT INTO pattern_runs (doc, pattern, command, shell, pty, started_at, approval_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id::int AS id`,
      [run.doc, run.pattern, run.command, run.shell, run.pty, run.startedAt, run.approvalId],
    )
    return r.rows[0]!.id
  }

  async finishRun(
    id: number,
    historyId: number | null,
    exitCode: number | null,
    durationMs: number | null,
  ): Promise<void> {
    await this.db.query(
      'UPDATE pattern_runs SET history_id = $2, exit_code = $3, duration_ms = $4 WHERE id = $1',
      [id, historyId, exitCode, durationMs],
    )
  }

  async runs(doc: string, pattern: string, limit = 20): Promise<PatternRun[]> {
    const r = await this.db.query<PatternRun>(
      `SELECT id::int AS id, doc, pattern, command, shell, pty, started_at::float8 AS "startedAt",
              approval_id AS "approvalId", history_id::float8 AS "historyId", exit_code AS "exitCode"
         FROM pattern_runs WHERE doc = $1 AND pattern = $2 ORDER BY id DESC LIMIT $3`,
      [doc, pattern, limit],
    )
    return r.rows
  }

  async teamState(team: string): Promise<Record<string, unknown> | null> {
    const r = await this.db.query<{ body: string }>('SELECT body FROM team_state WHERE team = $1', [
      team,
    ])
    const body = r.rows[0]?.body
    return body ? (JSON.parse(body) as Record<string, unknown>) : null
  }

  async saveTeamState(team: string, body: Record<string, unknown>): Promise<void> {
    await this.db.query(
      `INSERT INTO team_state (team, body) VALUES ($1, $2)
       ON CONFLICT (team) DO UPDATE SET body = EXCLUDED.body`,
      [team, JSON.stringify(body)],
    )
  }

  async close(): Promise<void> {
    if (this.closed) return
    await this.flush()
    this.closed = true
    try {
      await this.db.close()
    } finally {
      this.lock.release()
    }
  }
}

async function migrate(db: PGlite): Promise<void> {
  await db.exec('CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)')
  const r = await db.query<{ version: number }>('SELECT version FROM schema_version')
  const current = r.rows[0]?.version ?? 0
  if (current > MIGRATIONS.length)
    throw new Error(
      `The library database is from a newer cmdai (schema ${current}); update cmdai to open it`,
    )
  for (let v = current; v < MIGRATIONS.length; v++) {
    await db.transaction(async (tx) => {
      await tx.exec(MIGRATIONS[v]!)
      await tx.query('DELETE FROM schema_version')
      await tx.query('INSERT INTO schema_version (version) VALUES ($1)', [v + 1])
    })
  }
}
