import type { PGlite } from '@electric-sql/pglite'
import { hostname } from 'node:os'
import { dirname, join } from 'node:path'
import { CmdaiError } from '../../contract/errors'
import type {
  HistoryAiRequest,
  HistoryCommand,
  HistoryFilter,
  HistoryRequestsArgs,
  HistorySearchResult,
  HistoryStats,
} from './types'
import type { Embedder } from './embedder'
import { createBackup, DAY_MS, listBackups, type BackupInfo } from './backup'
import { importHash, insertBatch, type BatchResult, type BulkRow } from './bulk-insert'
import { EmbeddingIndexer } from './embeddings'
import { filterSql, isEmptyFilter } from './filters'
import { acquireLock, type HeldLock } from './lock'
import { currentVersion, LATEST_VERSION, migrate, pendingMigrations } from './migrations'
import {
  checkInvariants,
  closeQuietly,
  openDatabase,
  openError,
  type OpenedDatabase,
} from './open-db'
import { ensurePrivateDir, tightenTree } from '../config/private-fs'
import { commandProblem, int32OrNull } from './validate'
import { COMMAND_COLUMNS, toAiRequest, toCommand, type AiRow, type CommandRow } from './rows'
import { loadEmbeddings, loadSearchIndex } from './index-loader'
import { searchHistory, type SearchParams } from './search'
import { SearchIndex } from './search-index'
import { computeStats } from './stats'

/** One command to record (from the terminal or an import). */
export interface CommandInput {
  command: string
  cwd?: string | null
  exitCode?: number | null
  /** Epoch ms. */
  startedAt: number
  durationMs?: number | null
  shell?: string | null
  host?: string | null
  sessionId?: string | null
  ptyId?: string | null
  /** 'terminal' or the import format. */
  source: string
  /** Makes re-importing the same file idempotent. */
  importKey?: string | null
}

export interface SessionInput {
  id: string
  kind: 'terminal' | 'import'
  startedAt: number
  host?: string | null
  shell?: string | null
  ptyId?: string | null
  label?: string | null
}

export interface HistoryStoreOptions {
  /** The database directory (`<dataDir>/history`). */
  dir: string
  /** Redacts secrets from every text before it is written. */
  redact: (text: string) => string
  /** Who holds the lock: 'app' or 'cli'. */
  owner?: string
  embedder?: Embedder | null
  /** For tests that build an old database: stop migrating at this version. */
  schemaVersion?: number
  /**
   * A lock on the data directory the caller already holds (the app's history domain, doctor);
   * the caller releases it. Without one, the store takes the lock and releases it on close.
   */
  lock?: HeldLock
  /**
   * Build the in-memory search index at open (the app: searches are instant from the first
   * keystroke). The CLI passes false: the index is built by the first search, if any.
   */
  searchIndex?: boolean
  /** Load amcheck, for `history doctor`'s deep check. */
  amcheck?: boolean
}

/**
 * The history database: PGlite on disk, owned by this process (lock file), with secrets redacted
 * before any row is written. Each write is one transaction; PGlite writes through to the data
 * directory (Emscripten NODEFS), so a row is on disk (in the OS page cache, which survives the
 * process being killed) when its promise resolves.
 *
 * Searches are answered by an in-memory index (search-index.ts) built from the database at open
 * and updated after each committed write; the database stays the store of record, and the SQL
 * search (search.ts: tsvector, pg_trgm, pgvector) is kept as `searchSql`.
 */
export class HistoryStore {
  private indexer: EmbeddingIndexer | null = null
  private readonly knownSessions = new Set<string>()
  private closed = false
  /** How long building the in-memory search index took at open (part of `openMs`). */
  indexLoadMs = 0
  /** Resolves once the embeddings of the current embedder are in the index. */
  private embeddingsLoaded: Promise<void> = Promise.resolve()

  private constructor(
    readonly db: PGlite,
    private readonly lock: HeldLock,
    private readonly options: HistoryStoreOptions,
    readonly openMs: number,
    readonly schemaVersion: number,
    private index: SearchIndex | null,
  ) {}

  /**
   * Opens the database: checks the folder before PGlite may touch it (never initialising over
   * existing files), makes every file owner-only, backs up before migrating an existing
   * database, and checks that the tables hold together. Any failure is a `HistoryProblemError`
   * naming the file, what it means, and the repair command.
   */
  static async open(options: HistoryStoreOptions): Promise<HistoryStore> {
    const started = performance.now()
    ensurePrivateDir(dirname(options.dir))
    const lock =
      options.lock ??
      acquireLock(join(dirname(options.dir), 'history.lock'), options.owner ?? 'app')
    let opened: OpenedDatabase | null = null
    try {
      opened = await openDatabase(options.dir, { amcheck: options.amcheck })
      const db = opened.db
      const from = await currentVersion(db).catch(() => 0)
      if (!opened.created && from > 0 && pendingMigrations(from) > 0) {
        // A migration rewrites tables: keep the database as it was, in case it goes wrong.
        await createBackup(db, options.dir)
      }
      await migrate(db, { target: options.schemaVersion })
      // Fuzzy search: `<%` keeps candidates whose best-matching word span is this similar.
      await db.exec(`SET pg_trgm.word_similarity_threshold = 0.45;`)
      const version = await currentVersion(db)
      if (version >= LATEST_VERSION) await checkInvariants(opened, options.dir)
      // A store held at an older schema (tests of migrations only) gets an empty index.
      const indexStarted = performance.now()
      const index =
        options.searchIndex === false
          ? null
          : version >= LATEST_VERSION
            ? await loadSearchIndex(db)
            : new SearchIndex()
      const indexLoadMs = performance.now() - indexStarted
      const store = new HistoryStore(db, lock, options, performance.now() - started, version, index)
      store.indexLoadMs = indexLoadMs
      if (options.embedder) store.setEmbedder(options.embedder)
      return store
    } catch (err) {
      const problem = openError(err, opened, options.dir)
      await closeQuietly(opened?.db ?? null)
      if (!options.lock) lock.release()
      throw problem
    }
  }

  /** The redaction every stored text goes through (importers apply it before `insertBulk`). */
  get redact(): (text: string) => string {
    return this.options.redact
  }

  get embedder(): Embedder | null {
    return this.indexer?.embedder ?? null
  }

  /** Attach (or detach) an embedder; embeddings for existing texts are computed in the background. */
  setEmbedder(embedder: Embedder | null): void {
    this.indexer?.stop()
    this.indexer = null
    if (!embedder) return
    const model = embedder.model
    const dims = Math.trunc(embedder.dimensions)
    this.indexer = new EmbeddingIndexer(this.db, embedder, (ids, vectors) =>
      this.index?.setEmbeddings(model, dims, ids, vectors),
    )
    const indexer = this.indexer
    const index = this.index
    const loaded = index ? loadEmbeddings(this.db, index, model, dims) : Promise.resolve()
    this.embeddingsLoaded = loaded.then(
      () => {
        if (this.indexer === indexer && !this.closed) indexer.start()
      },
      (err: unknown) => console.error('[cmdai] loading history embeddings failed:', err),
    )
  }

  /** Waits until every text has an embedding (tests, benchmark). */
  async embedAll(): Promise<void> {
    await this.embeddingsLoaded
    await this.indexer?.drain()
  }

  async pendingEmbeddings(): Promise<number> {
    if (!this.indexer) return 0
    const index = await this.searchIndex()
    await this.embeddingsLoaded
    return index.textCount - index.embeddedCount()
  }

  async ensureSession(session: SessionInput): Promise<void> {
    if (this.knownSessions.has(session.id)) return
    await this.db.query(
      `INSERT INTO sessions (id, kind, started_at, host, shell, pty_id, label)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING`,
      [
        session.id,
        session.kind,
        session.startedAt,
        session.host ?? hostname(),
        session.shell ?? null,
        session.ptyId ?? null,
        session.label ? this.options.redact(session.label) : null,
      ],
    )
    this.knownSessions.add(session.id)
  }

  /**
   * Records commands in one transaction and returns the rows written (rows whose import key was
   * already present are skipped). Terminal commands are linked to the AI request they came from.
   */
  async recordCommands(inputs: CommandInput[]): Promise<HistoryCommand[]> {
    this.assertOpen()
    return this.exclusive(() => this.writeCommands(inputs))
  }

  /**
   * Writes a batch of imported rows (validated and redacted by the caller, see import.ts) in one
   * transaction. The in-memory index is not updated row by row: call `finishBulk` after the
   * last batch.
   */
  async insertBulk(
    rows: BulkRow[],
    options: { dedupeByContent?: boolean } = {},
  ): Promise<BatchResult> {
    this.assertOpen()
    return this.exclusive(() => insertBatch(this.db, rows, options))
  }

  /**
   * After bulk writes: a CHECKPOINT (so the WAL shrinks back to one segment), VACUUM of the
   * texts (each batch left an old version of every counter it bumped), owner-only modes on the
   * files PGlite created meanwhile, then the in-memory index rebuilt and embeddings resumed.
   */
  async finishBulk(): Promise<void> {
    this.assertOpen()
    await this.exclusive(async () => {
      await this.db.exec('VACUUM command_texts')
      await this.db.exec('CHECKPOINT')
      tightenTree(this.options.dir)
      await this.reloadIndex()
    })
    this.indexer?.wake()
  }

  /** Writes a backup now (see backup.ts). */
  async backup(options: { keep?: number } = {}): Promise<BackupInfo> {
    this.assertOpen()
    return this.exclusive(() => createBackup(this.db, this.options.dir, options))
  }

  /**
   * The automatic rolling backup: one when the newest is older than `maxAgeMs` (a day) and the
   * history is not empty. Returns it, or null when none was due.
   */
  async maybeBackup(
    options: { maxAgeMs?: number; keep?: number } = {},
  ): Promise<BackupInfo | null> {
    this.assertOpen()
    const newest = listBackups(this.options.dir)[0]
    if (newest && Date.now() - newest.createdAt < (options.maxAgeMs ?? DAY_MS)) return null
    const rows = await this.db.query<{ any: boolean }>(
      'SELECT EXISTS (SELECT 1 FROM commands) OR EXISTS (SELECT 1 FROM ai_requests) AS any',
    )
    if (!rows.rows[0]?.any) return null
    return this.backup({ keep: options.keep })
  }

  private async writeCommands(inputs: CommandInput[]): Promise<HistoryCommand[]> {
    if (inputs.length === 0) return []
    const redact = this.options.redact
    const cols = {
      text: [] as string[],
      cwd: [] as (string | null)[],
      exit: [] as (number | null)[],
      started: [] as number[],
      duration: [] as (number | null)[],
      shell: [] as (string | null)[],
      host: [] as (string | null)[],
      session: [] as (string | null)[],
      pty: [] as (string | null)[],
      source: [] as string[],
      key: [] as (string | null)[],
    }
    for (const input of inputs) {
      const text = redact(input.command).trim()
      if (!text) continue
      const row = {
        ...input,
        command: text,
        cwd: input.cwd ? redact(input.cwd) : null,
        startedAt: Math.round(input.startedAt),
        host: input.host ?? hostname(),
      }
      // The schema's constraints would refuse it (and abort the whole transaction): skip it
      // here, loudly. Imports validate before this and report each line.
      const problem = commandProblem(row)
      if (problem) {
        console.warn(`[cmdai] not recording a command: ${problem}`)
        continue
      }
      cols.text.push(text)
      cols.cwd.push(row.cwd)
      cols.exit.push(int32OrNull(input.exitCode))
      cols.started.push(row.startedAt)
      cols.duration.push(int32OrNull(input.durationMs, 0))
      cols.shell.push(input.shell ?? null)
      cols.host.push(row.host)
      cols.session.push(input.sessionId ?? null)
      cols.pty.push(input.ptyId ?? null)
      cols.source.push(input.source)
      cols.key.push(input.importKey ? importHash(input.importKey) : null)
    }
    if (cols.text.length === 0) return []
    const rows = await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO command_texts (text) SELECT DISTINCT x FROM unnest($1::text[]) x
         ON CONFLICT (text) DO NOTHING`,
        [cols.text],
      )
      const res = await tx.query<CommandRow>(
        `WITH input AS (
           SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[], $5::int[],
             $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[])
             WITH ORDINALITY AS i(text, cwd, exit_code, started_at, duration_ms, shell, host,
               session_id, pty_id, source, import_hash, ord)
         ), ins AS (
           INSERT INTO commands (text_id, cwd, exit_code, started_at, duration_ms, shell, host,
             session_id, pty_id, source, import_hash)
           SELECT t.id, i.cwd, i.exit_code, i.started_at, i.duration_ms, i.shell, i.host,
             i.session_id, i.pty_id, i.source, i.import_hash
           FROM input i JOIN command_texts t ON t.text = i.text ORDER BY i.ord
           ON CONFLICT (import_hash) DO NOTHING
           RETURNING *
         ), agg AS (
           UPDATE command_texts t SET uses = t.uses + a.n, ok_uses = t.ok_uses + a.ok,
             fail_uses = t.fail_uses + a.fail, last_used_at = greatest(t.last_used_at, a.last)
           FROM (SELECT text_id, count(*)::int AS n,
                   count(*) FILTER (WHERE exit_code = 0)::int AS ok,
                   count(*) FILTER (WHERE exit_code <> 0)::int AS fail,
                   max(started_at) AS last
                 FROM ins GROUP BY text_id) a
           WHERE t.id = a.text_id
         )
         SELECT ${COMMAND_COLUMNS} FROM ins c JOIN command_texts t ON t.id = c.text_id ORDER BY c.id`,
        [
          cols.text,
          cols.cwd,
          cols.exit,
          cols.started,
          cols.duration,
          cols.shell,
          cols.host,
          cols.session,
          cols.pty,
          cols.source,
          cols.key,
        ],
      )
      const written = res.rows
      for (const row of written) {
        if (row.source !== 'terminal') continue
        const link = await tx.query<{ id: number }>(
          `UPDATE ai_requests SET command_id = $1 WHERE id = (
             SELECT id FROM ai_requests
             WHERE command_id IS NULL AND decision IN ('ran', 'edited')
               AND coalesce(final_command, proposed_command) = $2
               AND created_at >= $3::bigint - 3600000 AND (pty_id IS NULL OR pty_id = $4::text)
             ORDER BY created_at DESC LIMIT 1)
           RETURNING id`,
          [row.id, row.text, row.started_at, row.pty_id],
        )
        const aiId = link.rows[0]?.id
        if (aiId !== undefined) {
          await tx.query('UPDATE commands SET ai_request_id = $1 WHERE id = $2', [aiId, row.id])
          row.ai_request_id = aiId
        }
      }
      return written
    })
    this.index?.addRows(rows)
    if (rows.length) this.indexer?.wake()
    return rows.map(toCommand)
  }

  async recordAi(input: HistoryRequestsArgs['history:recordAi']): Promise<HistoryAiRequest> {
    this.assertOpen()
    const r = this.options.redact
    const opt = (v: string | undefined) => (v === undefined ? null : r(v))
    const res = await this.db.query<AiRow>(
      `INSERT INTO ai_requests (created_at, request, context_summary, model, backend, timings,
         proposed_command, risk, reasons, decision, final_command, decided_at, pty_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING *`,
      [
        Date.now(),
        r(input.request),
        opt(input.contextSummary),
        input.model ?? null,
        input.backend ?? null,
        input.timings ? JSON.stringify(input.timings) : null,
        opt(input.proposedCommand),
        input.risk ?? null,
        input.reasons ? JSON.stringify(this.redactReasons(input.reasons)) : null,
        input.decision ?? null,
        opt(input.finalCommand),
        input.decision ? Date.now() : null,
        input.ptyId ?? null,
      ],
    )
    const row = res.rows[0]!
    return input.decision ? this.linkAiToCommand(row) : toAiRequest(row)
  }

  async updateAi(input: HistoryRequestsArgs['history:updateAi']): Promise<HistoryAiRequest> {
    this.assertOpen()
    const r = this.options.redact
    const res = await this.db.query<AiRow>(
      `UPDATE ai_requests SET
         decision = coalesce($2, decision),
         decided_at = CASE WHEN $2::text IS NULL THEN decided_at ELSE $3 END,
         final_command = coalesce($4, final_command),
         proposed_command = coalesce($5, proposed_command),
         risk = coalesce($6, risk),
         reasons = coalesce($7::jsonb, reasons),
         timings = CASE WHEN $8::jsonb IS NULL THEN timings ELSE coalesce(timings, '{}'::jsonb) || $8::jsonb END,
         pty_id = coalesce($9, pty_id)
       WHERE id = $1 RETURNING *`,
      [
        input.id,
        input.decision ?? null,
        Date.now(),
        input.finalCommand === undefined ? null : r(input.finalCommand),
        input.proposedCommand === undefined ? null : r(input.proposedCommand),
        input.risk ?? null,
        input.reasons ? JSON.stringify(this.redactReasons(input.reasons)) : null,
        input.timings ? JSON.stringify(input.timings) : null,
        input.ptyId ?? null,
      ],
    )
    const row = res.rows[0]
    if (!row) throw new CmdaiError('not_found', `No AI request with id ${input.id}`)
    return this.linkAiToCommand(row)
  }

  /** When the command already ran before the decision was recorded, link it now. */
  private linkAiToCommand(row: AiRow): Promise<HistoryAiRequest> {
    return this.exclusive(() => this.linkAiNow(row))
  }

  private async linkAiNow(row: AiRow): Promise<HistoryAiRequest> {
    if (row.command_id !== null || (row.decision !== 'ran' && row.decision !== 'edited')) {
      return toAiRequest(row)
    }
    const text = row.final_command ?? row.proposed_command
    if (!text) return toAiRequest(row)
    const res = await this.db.transaction(async (tx) => {
      const found = await tx.query<{ id: number }>(
        `SELECT c.id FROM commands c JOIN command_texts t ON t.id = c.text_id
         WHERE t.text = $1 AND c.ai_request_id IS NULL AND c.source = 'terminal'
           AND c.started_at >= $2::bigint - 60000 AND ($3::text IS NULL OR c.pty_id = $3)
         ORDER BY c.started_at DESC LIMIT 1`,
        [text, row.created_at, row.pty_id],
      )
      const commandId = found.rows[0]?.id
      if (commandId === undefined) return row
      await tx.query('UPDATE commands SET ai_request_id = $1 WHERE id = $2', [row.id, commandId])
      const updated = await tx.query<AiRow>(
        'UPDATE ai_requests SET command_id = $1 WHERE id = $2 RETURNING *',
        [commandId, row.id],
      )
      return updated.rows[0]!
    })
    if (res.command_id !== null) this.index?.setAiRequest(res.command_id, res.id)
    return toAiRequest(res)
  }

  private redactReasons<T extends { message: string }>(reasons: T[]): T[] {
    return reasons.map((reason) => ({ ...reason, message: this.options.redact(reason.message) }))
  }

  /** Search-as-you-type, from the in-memory index. */
  async search(params: SearchParams): Promise<HistorySearchResult> {
    this.assertOpen()
    let vector: Float32Array | null = null
    if (params.mode === 'semantic') {
      const embedder = this.embedder
      if (!embedder) {
        throw new CmdaiError(
          'unavailable',
          'Semantic search needs an embedding model: install one from the model catalog',
        )
      }
      const query = params.query.trim()
      if (query) vector = (await embedder.embed([query]))[0] ?? null
      await this.embeddingsLoaded
    }
    const index = await this.searchIndex()
    const started = performance.now()
    const result = index.search(params, vector)
    if (params.mode === 'semantic') {
      result.pendingEmbeddings = index.textCount - index.embeddedCount()
    }
    result.tookMs = performance.now() - started
    return result
  }

  /** The same search done in SQL (tsvector, pg_trgm, pgvector); slower, kept as a reference. */
  async searchSql(params: SearchParams): Promise<HistorySearchResult> {
    this.assertOpen()
    const result = await searchHistory(this.db, params, this.embedder)
    if (params.mode === 'semantic') {
      result.pendingEmbeddings = this.indexer ? await this.indexer.pending() : 0
    }
    return result
  }

  async stats(filter?: HistoryFilter): Promise<HistoryStats> {
    this.assertOpen()
    return computeStats(this.db, filter)
  }

  async getCommand(id: number): Promise<HistoryCommand | null> {
    const res = await this.db.query<CommandRow>(
      `SELECT ${COMMAND_COLUMNS} FROM commands c JOIN command_texts t ON t.id = c.text_id WHERE c.id = $1`,
      [id],
    )
    return res.rows[0] ? toCommand(res.rows[0]) : null
  }

  async getAi(id: number): Promise<HistoryAiRequest | null> {
    const res = await this.db.query<AiRow>('SELECT * FROM ai_requests WHERE id = $1', [id])
    return res.rows[0] ? toAiRequest(res.rows[0]) : null
  }

  /** Pages through command rows (oldest first) matching a filter, for export. */
  async *iterateCommands(filter?: HistoryFilter, pageSize = 2000): AsyncGenerator<HistoryCommand> {
    this.assertOpen()
    let after = 0
    for (;;) {
      const f = filterSql(filter, 2)
      const res = await this.db.query<CommandRow>(
        `SELECT ${COMMAND_COLUMNS} FROM commands c JOIN command_texts t ON t.id = c.text_id
         WHERE c.id > $1 AND ${f.sql} ORDER BY c.id LIMIT $2`,
        [after, pageSize, ...f.params],
      )
      for (const row of res.rows) yield toCommand(row)
      if (res.rows.length < pageSize) return
      after = res.rows[res.rows.length - 1]!.id
    }
  }

  /**
   * Deletes commands by id and/or filter, the AI requests linked to them (and, for a filter with
   * a time range, the AI requests made in it), texts no longer used and their embeddings.
   */
  async delete(input: {
    ids?: number[]
    filter?: HistoryFilter
  }): Promise<{ deletedCommands: number; deletedAiRequests: number }> {
    this.assertOpen()
    return this.exclusive(() => this.deleteNow(input))
  }

  private async deleteNow(input: {
    ids?: number[]
    filter?: HistoryFilter
  }): Promise<{ deletedCommands: number; deletedAiRequests: number }> {
    const result = await this.db.transaction(async (tx) => {
      const conds: string[] = []
      const params: unknown[] = []
      if (input.ids?.length) {
        params.push(input.ids)
        conds.push(`c.id = ANY($${params.length}::bigint[])`)
      }
      if (input.filter) {
        const f = filterSql(input.filter, params.length)
        params.push(...f.params)
        conds.push(f.sql)
      }
      if (!conds.length) return { deletedCommands: 0, deletedAiRequests: 0 }
      const where = conds.join(' AND ')
      await tx.query(
        `CREATE TEMP TABLE IF NOT EXISTS doomed (id bigint PRIMARY KEY, text_id bigint) ON COMMIT DELETE ROWS`,
      )
      await tx.query(
        `INSERT INTO doomed SELECT c.id, c.text_id FROM commands c WHERE ${where}`,
        params,
      )
      let aiWhere = 'command_id IN (SELECT id FROM doomed)'
      const aiParams: unknown[] = []
      const f = input.filter
      if (f && (f.since !== undefined || f.until !== undefined) && isTimeOnly(f)) {
        aiParams.push(f.since ?? 0, f.until ?? Number.MAX_SAFE_INTEGER)
        aiWhere += ' OR (created_at >= $1 AND created_at < $2)'
      }
      const ai = await tx.query(`DELETE FROM ai_requests WHERE ${aiWhere} RETURNING id`, aiParams)
      // A command kept (outside the range) whose AI request was deleted (inside it) forgets it,
      // so that a command never points at an AI request that does not exist.
      if (ai.rows.length) {
        await tx.query(
          `UPDATE commands SET ai_request_id = NULL WHERE ai_request_id = ANY($1::bigint[])`,
          [(ai.rows as Array<{ id: number }>).map((r) => r.id)],
        )
      }
      const cmd = await tx.query('DELETE FROM commands WHERE id IN (SELECT id FROM doomed)')
      // Recompute the aggregates of the touched texts; drop texts nothing uses any more (their
      // embeddings go with them: ON DELETE CASCADE).
      await tx.query(`
        UPDATE command_texts t SET
          uses = coalesce(a.uses, 0), ok_uses = coalesce(a.ok, 0), fail_uses = coalesce(a.fail, 0),
          last_used_at = coalesce(a.last, 0)
        FROM (SELECT DISTINCT text_id FROM doomed) d
        LEFT JOIN (SELECT text_id, count(*)::int AS uses,
                     count(*) FILTER (WHERE exit_code = 0)::int AS ok,
                     count(*) FILTER (WHERE exit_code <> 0)::int AS fail, max(started_at) AS last
                   FROM commands WHERE text_id IN (SELECT text_id FROM doomed) GROUP BY text_id) a
          ON a.text_id = d.text_id
        WHERE t.id = d.text_id`)
      await tx.query(
        `DELETE FROM command_texts WHERE id IN (SELECT DISTINCT text_id FROM doomed) AND uses = 0`,
      )
      return { deletedCommands: cmd.affectedRows ?? 0, deletedAiRequests: ai.affectedRows ?? 0 }
    })
    if (result.deletedCommands > 0) await this.reloadIndex()
    return result
  }

  /** Rebuilds the in-memory index from the database (after a delete: rare, and simplest kept
   * exactly in step). */
  private async reloadIndex(): Promise<void> {
    if (!this.index) return
    this.index = await this.buildIndex()
  }

  private async buildIndex(): Promise<SearchIndex> {
    const index = await loadSearchIndex(this.db)
    const embedder = this.embedder
    if (embedder) {
      await this.embeddingsLoaded
      await loadEmbeddings(this.db, index, embedder.model, Math.trunc(embedder.dimensions))
    }
    return index
  }

  /** The in-memory index, built now if the store was opened without it (the CLI). */
  private async searchIndex(): Promise<SearchIndex> {
    if (this.index) return this.index
    return this.exclusive(async () => {
      this.index ??= await this.buildIndex()
      return this.index
    })
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.indexer?.stop()
    await this.indexer?.idle()
    try {
      await this.db.close()
      // Files PGlite created since open (WAL segments, new tables) were made with the umask.
      tightenTree(this.options.dir)
    } finally {
      if (!this.options.lock) this.lock.release()
    }
  }

  /**
   * Writes that touch the in-memory index run one at a time, so that the index applies them in
   * commit order and a reload (after a delete) cannot miss one.
   */
  private queue: Promise<unknown> = Promise.resolve()
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => {})
    return run
  }

  private assertOpen(): void {
    if (this.closed) throw new CmdaiError('unavailable', 'The history database is closed')
  }
}

function isTimeOnly(filter: HistoryFilter): boolean {
  return Object.entries(filter).every(
    ([key, value]) => value === undefined || key === 'since' || key === 'until',
  )
}

export type { SearchParams }
export { isEmptyFilter }
