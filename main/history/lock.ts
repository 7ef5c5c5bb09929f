import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { CmdaiError } from '../../contract/errors'
import { isoOrNull } from './validate'

/** Who holds the history database. Written as JSON into the lock file. */
export interface LockOwner {
  pid: number
  host: string
  /** 'app' (Electron), 'serve' (browser mode), 'cli' or 'doctor'. */
  owner: string
  since: number
}

export interface HeldLock {
  readonly path: string
  release(): void
}

/**
 * One process owns the database (PGlite is single-process; two writers would corrupt it). The lock
 * is a file created with O_EXCL holding the owner's pid; a lock whose process is gone (crash,
 * kill -9) is stale and is taken over.
 */
export function acquireLock(path: string, owner: string): HeldLock {
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number
    try {
      fd = openSync(path, 'wx', 0o600)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const holder = readLock(path)
      if (holder && isAlive(holder)) throw lockedError(holder)
      // Stale (its process is gone) or unreadable (a writer died between create and write).
      try {
        unlinkSync(path)
      } catch (unlinkErr) {
        if ((unlinkErr as NodeJS.ErrnoException).code !== 'ENOENT') throw unlinkErr
      }
      continue
    }
    const me: LockOwner = { pid: process.pid, host: hostname(), owner, since: Date.now() }
    writeSync(fd, JSON.stringify(me))
    closeSync(fd)
    let released = false
    const release = () => {
      if (released) return
      released = true
      process.off('exit', release)
      const holder = readLock(path)
      if (holder?.pid === process.pid) {
        try {
          unlinkSync(path)
        } catch {
          // Already gone: nothing to release.
        }
      }
    }
    process.on('exit', release)
    return { path, release }
  }
  throw new CmdaiError('unavailable', `Could not take the history lock ${path}`)
}

export function readLock(path: string): LockOwner | null {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>
    if (typeof parsed.pid !== 'number') return null
    return {
      pid: parsed.pid,
      host: String(parsed.host ?? ''),
      owner: String(parsed.owner ?? 'unknown'),
      since: Number(parsed.since ?? 0),
    }
  } catch {
    return null
  }
}

function isAlive(holder: LockOwner): boolean {
  // A lock from another machine (shared home directory) cannot be checked: respect it.
  if (holder.host && holder.host !== hostname()) return true
  if (holder.pid === process.pid) return true
  try {
    process.kill(holder.pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Who holds a lock, in words. */
export function describeHolder(holder: LockOwner): string {
  const who =
    { cli: 'another cmdai command', doctor: 'cmdai history doctor', serve: 'cmdai serve' }[
      holder.owner
    ] ?? 'the running cmdai app'
  return `${who} (pid ${holder.pid} on ${holder.host}, since ${isoOrNull(holder.since) ?? 'an unknown time'})`
}

function lockedError(holder: LockOwner): CmdaiError {
  return new CmdaiError(
    'unavailable',
    `The history database is in use by ${describeHolder(holder)}. Only one process may open ` +
      `it at a time: close the app (or use its history search, Ctrl+R) and try again.`,
  )
}

/**
 * Throws the same error as `claimDataDir` when another live process holds the data directory,
 * without taking it: for checks that must come before anything is written (serve's token).
 */
export function assertDataDirFree(dataDir: string): void {
  const path = join(dataDir, 'history.lock')
  const holder = readLock(path)
  if (holder && holder.pid !== process.pid && isAlive(holder)) throw busyError(dataDir, holder)
}

/**
 * Claims a data directory for an app or `serve` for as long as it runs: one owner per data
 * directory, so a second one refuses to start (naming the first) instead of running with a
 * history that never records anything.
 */
export function claimDataDir(dataDir: string, owner: 'app' | 'serve'): HeldLock {
  const path = join(dataDir, 'history.lock')
  try {
    return acquireLock(path, owner)
  } catch (err) {
    const holder = readLock(path)
    if (!holder || !(err instanceof CmdaiError)) throw err
    throw busyError(dataDir, holder)
  }
}

function busyError(dataDir: string, holder: LockOwner): CmdaiError {
  return new CmdaiError(
    'conflict',
    `The data directory ${dataDir} is in use by ${describeHolder(holder)}. Only one cmdai ` +
      `app or \`cmdai serve\` may use a data directory at a time: stop that one first ` +
      `(kill ${holder.pid}), or start this one with another CMDAI_DATA_DIR.`,
  )
}
