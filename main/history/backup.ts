import { PGlite } from '@electric-sql/pglite'
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm'
import { vector } from '@electric-sql/pglite-pgvector'
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { CmdaiError } from '../../contract/errors'
import { ensurePrivateDir, tightenTree, writePrivateFile } from '../config/private-fs'
import { closeQuietly, START_PARAMS } from './open-db'

/** Backups kept when none is said: a week of daily ones. */
export const DEFAULT_KEEP = 7
export const DAY_MS = 86_400_000

const BACKUP_NAME = /^history-(\d{8}T\d{6}(?:\d{3})?Z)\.tar\.gz$/

export interface BackupInfo {
  /** Absolute path of the `.tar.gz`. */
  file: string
  name: string
  createdAt: number
  bytes: number
}

/** `<dataDir>/backups`, beside the database folder. */
export function backupsDir(historyDir: string): string {
  return join(dirname(historyDir), 'backups')
}

/**
 * Writes a backup of the open database: a CHECKPOINT (so every change is in the data files),
 * then PGlite's `dumpDataDir` (a gzipped tar of the data directory taken while no query runs),
 * written 0600 through a temporary file and renamed into place. Keeps the newest `keep`.
 */
export async function createBackup(
  db: PGlite,
  historyDir: string,
  options: { keep?: number; now?: number } = {},
): Promise<BackupInfo> {
  const dir = backupsDir(historyDir)
  ensurePrivateDir(dir)
  await db.exec('CHECKPOINT')
  const blob = await db.dumpDataDir('gzip')
  const data = new Uint8Array(await blob.arrayBuffer())
  const createdAt = options.now ?? Date.now()
  const name = `history-${stamp(createdAt)}.tar.gz`
  const file = join(dir, name)
  writePrivateFile(file, data)
  pruneBackups(historyDir, options.keep ?? DEFAULT_KEEP)
  return { file, name, createdAt, bytes: data.length }
}

/** Backups, newest first. */
export function listBackups(historyDir: string): BackupInfo[] {
  const dir = backupsDir(historyDir)
  if (!existsSync(dir)) return []
  const out: BackupInfo[] = []
  for (const name of readdirSync(dir)) {
    const m = BACKUP_NAME.exec(name)
    if (!m) continue
    const file = join(dir, name)
    out.push({ file, name, createdAt: parseStamp(m[1]!), bytes: statSync(file).size })
  }
  return out.sort((a, b) => b.createdAt - a.createdAt)
}

function pruneBackups(historyDir: string, keep: number): void {
  for (const old of listBackups(historyDir).slice(Math.max(1, keep))) rmSync(old.file)
}

/** A backup by name (`history-….tar.gz`), path, or the newest when none is given. */
export function findBackup(historyDir: string, which?: string): BackupInfo {
  const all = listBackups(historyDir)
  if (!which) {
    const newest = all[0]
    if (!newest) {
      throw new CmdaiError('not_found', `No backups in ${backupsDir(historyDir)}`)
    }
    return newest
  }
  const byName = all.find((b) => b.name === which || b.name === `${which}.tar.gz`)
  if (byName) return byName
  const path = resolve(which)
  if (!existsSync(path)) {
    throw new CmdaiError(
      'not_found',
      `No backup named ${which} (see \`cmdai history backup --list\`), and no such file`,
    )
  }
  return {
    file: path,
    name: basename(path),
    createdAt: statSync(path).mtimeMs,
    bytes: statSync(path).size,
  }
}

/**
 * Moves a database folder aside, never deleting it: `history` → `history.<label>-<time>`.
 * Returns the new path, or null when there was nothing to move.
 */
export function moveAside(historyDir: string, label: string, now = Date.now()): string | null {
  if (!existsSync(historyDir)) return null
  const aside = `${historyDir}.${label}-${stamp(now)}`
  renameSync(historyDir, aside)
  return aside
}

/**
 * Unpacks a backup into a new database folder at `historyDir` (which must not exist): into a
 * sibling folder first, opened once by PGlite (`loadDataDir`) to check that it is a database,
 * then renamed into place.
 */
export async function unpackBackup(backup: BackupInfo, historyDir: string): Promise<void> {
  if (existsSync(historyDir)) {
    throw new CmdaiError('conflict', `${historyDir} exists; move it aside first`)
  }
  const staging = join(dirname(historyDir), `.${basename(historyDir)}.restoring-${process.pid}`)
  rmSync(staging, { recursive: true, force: true })
  ensurePrivateDir(staging)
  let db: PGlite | null = null
  try {
    const blob = new Blob([readFileSync(backup.file)])
    db = await PGlite.create({
      dataDir: staging,
      loadDataDir: blob,
      extensions: { pg_trgm, vector },
      startParams: START_PARAMS,
    })
    await db.query('SELECT count(*) FROM commands')
    await db.close()
    db = null
  } catch (err) {
    await closeQuietly(db)
    rmSync(staging, { recursive: true, force: true })
    throw new CmdaiError(
      'invalid_input',
      `${backup.file} is not a usable history backup: ${err instanceof Error ? err.message : String(err)}`,
    )
  }
  tightenTree(staging)
  renameSync(staging, historyDir)
}

/** 2026-12-02T01:30:00.123Z → 20261202T013000123Z (sorts, and is a valid file name everywhere). */
function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:.]/g, '')
}

function parseStamp(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})?Z$/.exec(s)
  if (!m) return 0
  const [, y, mo, d, h, mi, se, ms] = m
  return Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +se!, ms ? +ms : 0)
}
