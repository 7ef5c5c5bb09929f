import { PGlite } from '@electric-sql/pglite'
import { amcheck } from '@electric-sql/pglite/contrib/amcheck'
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm'
import { vector } from '@electric-sql/pglite-pgvector'
import { existsSync, rmSync } from 'node:fs'
import { dirname } from 'node:path'
import { createDatabaseInWorker } from '../config/initdb-worker'
import { ensurePrivateDir, tightenTree, writePrivateFile } from '../config/private-fs'
import { inspectDataDir } from './data-dir-check'
import { LostMigrationsError, NewerSchemaError } from './migrations'
import {
  dirStateError,
  explainOpenError,
  HistoryProblemError,
  invariantError,
  repairCommand,
} from './problems'

/**
 * How PGlite runs cmdai's database. On top of PGlite's defaults:
 * - shared_buffers 16 MB (PGlite's 128 MB is most of its memory; history's working set is small);
 * - WAL segments are removed, not recycled, and a checkpoint happens every 64 MB of WAL, so
 *   `pg_wal` stays small after bulk work (it grew to 561 MB and never shrank);
 * - new databases use 1 MB WAL segments (initdb's default is 16 MB, the floor of `pg_wal`).
 */
export const START_PARAMS = [
  ...PGlite.defaultStartParams,
  '-c',
  'shared_buffers=16MB',
  '-c',
  'wal_recycle=off',
  '-c',
  'min_wal_size=32MB',
  '-c',
  'max_wal_size=256MB',
]
const INITDB_PARAMS = ['--wal-segsize=1']

export interface OpenedDatabase {
  db: PGlite
  created: boolean
  /** Table or index name by relation file (`base/5/16417` → `commands`), to name damaged files. */
  relationNames: Map<string, string>
}

/**
 * Opens (or creates) the database folder `dir`, after checking it (data-dir-check.ts): a folder
 * that holds anything but a complete database is refused, never initialised over. While a new
 * database is being created a marker file sits beside it (`history.creating`), so a first start
 * that was interrupted is recognised as such and created again, instead of being taken for a
 * damaged database. Every file is made owner-only, whatever the umask.
 */
export async function openDatabase(
  dir: string,
  options: { amcheck?: boolean } = {},
): Promise<OpenedDatabase> {
  const marker = `${dir}.creating`
  if (existsSync(marker)) {
    // Only a creation that never finished leaves the marker: nothing was ever stored there.
    rmSync(dir, { recursive: true, force: true })
    rmSync(marker)
  }
  const state = inspectDataDir(dir)
  if (state.kind === 'foreign' || state.kind === 'damaged') throw dirStateError(dir, state)
  const created = state.kind === 'new'
  if (created) {
    ensurePrivateDir(dirname(dir))
    writePrivateFile(marker, `${process.pid}\n`)
    ensurePrivateDir(dir)
  } else tightenTree(dir)
  let db: PGlite | null = null
  try {
    // initdb (seconds of CPU) on a worker thread, so the caller's thread stays responsive.
    if (created) await createDatabaseInWorker(dir, { initDbStartParams: INITDB_PARAMS })
    db = await PGlite.create({
      dataDir: dir,
      extensions: { pg_trgm, vector, ...(options.amcheck ? { amcheck } : {}) },
      startParams: START_PARAMS,
    })
    if (created) rmSync(marker)
    const relationNames = await readRelationNames(db)
    tightenTree(dir)
    return { db, created, relationNames }
  } catch (err) {
    await closeQuietly(db)
    throw explainOpenError(err, dir)
  }
}

async function readRelationNames(db: PGlite): Promise<Map<string, string>> {
  const res = await db.query<{ path: string; name: string }>(
    `SELECT pg_relation_filepath(c.oid) AS path, c.relname AS name FROM pg_class c
     JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i')`,
  )
  return new Map(res.rows.map((r) => [r.path, r.name]))
}

function fileOf(opened: OpenedDatabase | null, table: string): string {
  return [...(opened?.relationNames ?? [])].find(([, name]) => name === table)?.[0] ?? table
}

export async function closeQuietly(db: PGlite | null): Promise<void> {
  try {
    await db?.close()
  } catch {
    // A database whose runtime aborted cannot close cleanly; its files are left as they were.
  }
}

/** Turns an error thrown while opening or reading into a problem naming the file and table. */
export function openError(
  err: unknown,
  opened: OpenedDatabase | null,
  dir: string,
): HistoryProblemError {
  if (err instanceof NewerSchemaError) {
    return new HistoryProblemError({
      file: dir,
      meaning: `${err.message.replace(/ Update cmdai\.$/, '')}: a newer cmdai wrote it`,
      repair: `install that newer cmdai again, or go back to an older backup with \`${repairCommand(dir, '--restore')}\``,
    })
  }
  if (err instanceof LostMigrationsError) {
    return invariantError(
      dir,
      fileOf(opened, 'schema_migrations'),
      '(table "schema_migrations") is empty although the tables exist: the file was truncated',
    )
  }
  return explainOpenError(err, dir, (file) => {
    const name = opened?.relationNames.get(file)
    return name ? `table or index "${name}"` : null
  })
}

/**
 * Checks that the tables still hold together the way every write keeps them (each command's
 * text, session and AI request exist; each counted text has commands): a table file truncated to
 * whole pages reads as a shorter table without any error, and this is how it shows.
 */
export async function checkInvariants(opened: OpenedDatabase, dir: string): Promise<void> {
  const res = await opened.db.query<Record<string, number>>(`
    SELECT
      (SELECT count(*)::int FROM commands c
        WHERE NOT EXISTS (SELECT 1 FROM command_texts t WHERE t.id = c.text_id)) AS texts,
      (SELECT count(*)::int FROM command_texts t
        WHERE t.uses > 0 AND NOT EXISTS (SELECT 1 FROM commands c WHERE c.text_id = t.id))
        AS commands,
      (SELECT count(*)::int FROM commands c WHERE c.session_id IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = c.session_id)) AS sessions,
      (SELECT count(*)::int FROM commands c WHERE c.ai_request_id IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM ai_requests a WHERE a.id = c.ai_request_id)) AS ai_requests`)
  const row = res.rows[0] ?? {}
  const what: Record<string, string> = {
    texts: 'commands refer to texts that are gone',
    commands: 'texts that were run have no command rows left',
    sessions: 'commands refer to terminal sessions that are gone',
    ai_requests: 'commands refer to AI requests that are gone',
  }
  // `texts` means command_texts lost rows, `commands` that commands did, and so on.
  const table: Record<string, string> = {
    texts: 'command_texts',
    commands: 'commands',
    sessions: 'sessions',
    ai_requests: 'ai_requests',
  }
  for (const key of Object.keys(what)) {
    const n = row[key] ?? 0
    if (n > 0) {
      throw invariantError(
        dir,
        fileOf(opened, table[key]!),
        `(table "${table[key]}") lost rows: ${n} ${what[key]}; the table file was truncated or replaced`,
      )
    }
  }
}
