import type { HeldLock } from '../main/history/lock'
import type { AuditLog } from './audit/audit-log'
import { FileAuditLog } from './audit/file-log'
import { SqlAuditLog } from './audit/sql-log'
import { KeyRing } from './auth/keys'
import { lockDataDir, openEmbeddedStorage } from './storage/data-dir'
import { dataPaths } from './storage/paths'
import { openPostgres } from './storage/sql-client'
import { createSqlStorage, type Storage } from './storage/storage'

export interface BackendConfig {
  /** `--data DIR`: embedded PGlite and audit segment files (and the CLI's control file). */
  dataDir?: string
  /** `--database-url`: PostgreSQL (shared by several instances); audit in a table. */
  databaseUrl?: string
  /** fsync audit segments after each append (embedded mode). */
  fsyncAudit?: boolean
}

/** Storage and audit log of one server (or one CLI command), with their owner's lock. */
export interface Backend {
  storage: Storage
  audit: AuditLog
  /** Opens (creating on first use) the signing keys; restore must run before this. */
  keys(): Promise<KeyRing>
  close(): Promise<void>
}

/**
 * Opens the storage the configuration names: Postgres when a URL is given, otherwise the
 * embedded database in the data dir, which this process then owns (a second process is refused).
 */
export async function openBackend(
  config: BackendConfig,
  owner: 'server' | 'cli',
): Promise<Backend> {
  let lock: HeldLock | null = null
  let storage: Storage
  let audit: AuditLog
  if (config.databaseUrl) {
    storage = await createSqlStorage(await openPostgres(config.databaseUrl)).catch((err: Error) => {
      throw new Error(`Cannot open the database: ${err.message}`)
    })
    audit = new SqlAuditLog(storage)
  } else {
    if (!config.dataDir)
      throw new Error('Give --data DIR (embedded storage) or --database-url URL (PostgreSQL)')
    lock = lockDataDir(config.dataDir, owner)
    try {
      storage = await openEmbeddedStorage(config.dataDir)
      audit = new FileAuditLog({
        dir: dataPaths(config.dataDir).audit,
        fsync: config.fsyncAudit ?? false,
      })
    } catch (err) {
      lock.release()
      throw err
    }
  }
  let keys: Promise<KeyRing> | null = null
  return {
    storage,
    audit,
    keys: () => (keys ??= KeyRing.open(storage)),
    async close() {
      await audit.close().catch(() => {})
      await storage.close().catch(() => {})
      lock?.release()
    },
  }
}
