import { existsSync, readdirSync } from 'node:fs'
import { acquireLock, readLock, type HeldLock } from '../../main/history/lock'
import { DataDirBusyError, dataPaths, ensurePrivateDir } from './paths'
import { openPglite } from './sql-client'
import { createSqlStorage, type Storage } from './storage'

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
