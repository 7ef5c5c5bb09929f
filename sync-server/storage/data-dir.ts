import { chmodSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { acquireLock, readLock, type HeldLock } from '../../main/history/lock'
import { openPglite } from './sql-client'
import { createSqlStorage, type Storage } from './storage'

/** The layout of a server data directory (`--data DIR`). */
export function dataPaths(dir: string) {
  return {
    root: dir,
    /** Embedded PostgreSQL (PGlite). */
    db: join(dir, 'db'),
    /** Audit log segments, one folder per team (embedded mode). */
    audit: join(dir, 'audit'),
    /** Who owns the data dir, and how the CLI reaches the running server. */
    run: join(dir, 'run'),
    lock: join(dir, 'run', 'owner.lock'),
    control: join(dir, 'run', 'control.json'),
  }
}

/** Creates a private directory (0700, whatever the umask), or makes an existing one private. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  if (!statSync(dir).isDirectory()) throw new Error(`${dir} is not a directory`)
  chmodSync(dir, 0o700)
}

/**
 * Takes ownership of a data dir: PGlite is single-process, so a second process (a CLI command
 * while the server runs) is refused; the CLI then talks to the running server instead.
 */
export function lockDataDir(dir: string, owner: 'server' | 'cli'): HeldLock {
  ensurePrivateDir(dir)
  ensurePrivateDir(dataPaths(dir).run)
  const path = dataPaths(dir).lock
  try {
    return acquireLock(path, owner)
  } catch (err) {
    const holder = readLock(path)
    if (!holder) throw err
    throw new DataDirBusyError(
      `${dir} is in use by ${holder.owner === 'server' ? 'a running cmdai-sync server' : 'another cmdai-sync command'} ` +
        `(pid ${holder.pid} on ${holder.host})`,
    )
  }
}

export class DataDirBusyError extends Error {
  override name = 'DataDirBusyError'
}

/**
 * Opens the embedded database in `<dir>/db`. A directory that holds something other than a
 * database is refused rather than initialised over.
 */
export async function openEmbeddedStorage(dir: string): Promise<Storage> {
  const db = dataPaths(dir).db
  if (existsSync(db)) {
    const entries = readdirSync(db)
    if (entries.length > 0 && !entries.includes('PG_VERSION'))
      throw new Error(
        `${db} is not a cmdai-sync database (no PG_VERSION): refusing to initialise over it`,
      )
  }
  ensurePrivateDir(db)
  const sql = await openPglite(db)
  try {
    return await createSqlStorage(sql)
  } catch (err) {
    await sql.close().catch(() => {})
    throw err
  }
}
