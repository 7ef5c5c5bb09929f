import { join } from 'node:path'
import type { HistoryProblem } from '../../contract/history'
import { findBackup, listBackups, moveAside, unpackBackup, type BackupInfo } from './backup'
import { inspectDataDir } from './data-dir-check'
import { acquireLock, type HeldLock } from './lock'
import { dirStateError, HistoryProblemError, invariantError } from './problems'
import { HistoryStore } from './store'

export type DoctorAction = 'check' | 'restore' | 'fresh'

export interface DoctorOptions {
  /** The database folder, `<dataDir>/history`. */
  historyDir: string
  action?: DoctorAction
  /** For `restore`: a backup name or path (default: the newest). */
  backup?: string
  redact: (text: string) => string
}

export interface DoctorCheck {
  state: 'healthy' | 'empty' | 'damaged'
  problems: HistoryProblem[]
  counts?: { commands: number; texts: number; aiRequests: number; sessions: number }
}

export interface DoctorReport {
  historyDir: string
  /** What the check found, before any action. */
  before: DoctorCheck
  backups: BackupInfo[]
  /** The folder the old database was moved to (never deleted). */
  movedAside?: string
  restoredFrom?: BackupInfo
  /** The check after a restore or a fresh start. */
  after?: DoctorCheck
}

/**
 * `cmdai history doctor`: checks the database (its files before opening, then the tables'
 * consistency and every index and table page with amcheck); with `restore` or `fresh`, moves the
 * current folder aside (never deletes it) and puts the newest (or named) backup, or an empty
 * database, in its place. Holds the data directory's lock throughout, so it refuses to run while
 * the app has the database open.
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const dir = options.historyDir
  const lock = acquireLock(join(dir, '..', 'history.lock'), 'doctor')
  try {
    const before = await checkDatabase(dir, options.redact, lock)
    const report: DoctorReport = { historyDir: dir, before, backups: listBackups(dir) }
    const action = options.action ?? 'check'
    if (action === 'check') return report
    const backup = action === 'restore' ? findBackup(dir, options.backup) : undefined
    report.movedAside =
      moveAside(dir, before.state === 'damaged' ? 'damaged' : 'replaced') ?? undefined
    if (backup) {
      await unpackBackup(backup, dir)
      report.restoredFrom = backup
    }
    // Opening creates the empty database (fresh) or checks the restored one.
    report.after = await checkDatabase(dir, options.redact, lock, { create: true })
    return report
  } finally {
    lock.release()
  }
}

async function checkDatabase(
  dir: string,
  redact: (text: string) => string,
  lock: HeldLock,
  options: { create?: boolean } = {},
): Promise<DoctorCheck> {
  const state = inspectDataDir(dir)
  if (state.kind === 'new' && !options.create) return { state: 'empty', problems: [] }
  if (state.kind === 'foreign' || state.kind === 'damaged') {
    const problems =
      state.kind === 'damaged'
        ? state.problems.map((p) => dirStateError(dir, { kind: 'damaged', problems: [p] }).problem)
        : [dirStateError(dir, state).problem]
    return { state: 'damaged', problems }
  }
  let store: HistoryStore
  try {
    store = await HistoryStore.open({ dir, redact, lock, owner: 'doctor', amcheck: true })
  } catch (err) {
    if (err instanceof HistoryProblemError) return { state: 'damaged', problems: [err.problem] }
    throw err
  }
  try {
    const problems = await deepCheck(store, dir)
    const counts = await store.db.query<{ c: number; t: number; a: number; s: number }>(
      `SELECT (SELECT count(*)::int FROM commands) AS c, (SELECT count(*)::int FROM command_texts) AS t,
              (SELECT count(*)::int FROM ai_requests) AS a, (SELECT count(*)::int FROM sessions) AS s`,
    )
    const row = counts.rows[0]!
    return {
      state: problems.length ? 'damaged' : 'healthy',
      problems,
      counts: { commands: row.c, texts: row.t, aiRequests: row.a, sessions: row.s },
    }
  } finally {
    await store.close()
  }
}

/** Every table's pages (verify_heapam) and every index (bt_index_check, gin_index_check). */
async function deepCheck(store: HistoryStore, dir: string): Promise<HistoryProblem[]> {
  const db = store.db
  const problems: HistoryProblem[] = []
  await db.exec('CREATE EXTENSION IF NOT EXISTS amcheck')
  try {
    const rels = await db.query<{ name: string; kind: string; am: string | null; path: string }>(
      `SELECT c.relname AS name, c.relkind AS kind, am.amname AS am,
              pg_relation_filepath(c.oid) AS path
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_am am ON am.oid = c.relam
       WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i') ORDER BY c.relkind DESC, c.relname`,
    )
    for (const rel of rels.rows) {
      const what = rel.kind === 'r' ? 'table' : 'index'
      try {
        if (rel.kind === 'r') {
          const res = await db.query<{ msg: string }>(
            `SELECT msg FROM verify_heapam($1::regclass) LIMIT 1`,
            [rel.name],
          )
          const msg = res.rows[0]?.msg
          if (msg) throw new Error(msg)
        } else if (rel.am === 'btree') {
          await db.query(`SELECT bt_index_check($1::regclass, true)`, [rel.name])
        } else if (rel.am === 'gin') {
          await db.query(`SELECT gin_index_check($1::regclass)`, [rel.name])
        }
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err)
        problems.push(
          invariantError(dir, rel.path, `(${what} "${rel.name}") is damaged: ${message}`).problem,
        )
      }
    }
  } finally {
    await db.exec('DROP EXTENSION IF EXISTS amcheck')
  }
  return problems
}
