import { chmodSync, mkdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

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

export class DataDirBusyError extends Error {
  override name = 'DataDirBusyError'
}
