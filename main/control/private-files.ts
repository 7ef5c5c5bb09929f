import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs'
import { CmdaiError } from '../../contract/errors'

/**
 * Files only this user may read or write (0600, folders 0700, whatever the umask), opened without
 * following symbolic links, owned by this user. What fails these checks is refused, never read,
 * replaced or written through.
 */

const NOFOLLOW = constants.O_NOFOLLOW ?? 0
const uid = () => process.getuid?.()

function owned(stat: Stats): boolean {
  const me = uid()
  return me === undefined || stat.uid === me
}

function refuse(path: string, why: string): CmdaiError {
  return new CmdaiError('forbidden', `Refusing to use ${path}: ${why}`)
}

/** The path's lstat, or null when nothing is there. */
export function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
}

/** Creates the folder (0700) if needed; an existing one must be a real folder owned by us. */
export function ensurePrivateDir(dir: string, options: { tighten?: boolean } = {}): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const stat = lstatSync(dir)
  if (stat.isSymbolicLink()) throw refuse(dir, 'it is a symbolic link')
  if (!stat.isDirectory()) throw refuse(dir, 'it is not a folder')
  if (!owned(stat)) throw refuse(dir, 'it belongs to another user')
  // A folder we create for the socket (in the temp dir) must not be open to others.
  if (options.tighten && (stat.mode & 0o077) !== 0) {
    const fd = openSync(dir, constants.O_RDONLY | NOFOLLOW)
    try {
      fchmodSync(fd, 0o700)
    } finally {
      closeSync(fd)
    }
  }
}

/** Reads a private file: a regular file owned by us, not a link, with no group/other access. */
export function readPrivateFile(path: string): string {
  const fd = openSync(path, constants.O_RDONLY | NOFOLLOW)
  try {
    const stat = fstatSync(fd)
    if (!stat.isFile()) throw refuse(path, 'it is not a regular file')
    if (!owned(stat)) throw refuse(path, 'it belongs to another user')
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
      throw refuse(path, 'other users can read it (it must be 0600)')
    }
    return readFileSync(fd, 'utf8')
  } finally {
    closeSync(fd)
  }
}

/**
 * Replaces a private file with new content: an existing regular file of ours is removed first, a
 * link or anything else at the path is refused. The new file is created exclusively, 0600.
 */
export function writePrivateFile(path: string, content: string): void {
  const existing = lstatOrNull(path)
  if (existing) {
    if (existing.isSymbolicLink()) throw refuse(path, 'it is a symbolic link')
    if (!existing.isFile()) throw refuse(path, 'it is not a regular file')
    if (!owned(existing)) throw refuse(path, 'it belongs to another user')
    unlinkSync(path)
  }
  const fd = openSync(
    path,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW,
    0o600,
  )
  try {
    fchmodSync(fd, 0o600)
    writeSync(fd, content)
  } finally {
    closeSync(fd)
  }
}

/** Opens a private file for appending (created 0600); a link or someone else's file is refused. */
export function openPrivateAppend(path: string): number {
  const fd = openSync(
    path,
    constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | NOFOLLOW,
    0o600,
  )
  try {
    const stat = fstatSync(fd)
    if (!stat.isFile()) throw refuse(path, 'it is not a regular file')
    if (!owned(stat)) throw refuse(path, 'it belongs to another user')
    if ((stat.mode & 0o077) !== 0) fchmodSync(fd, 0o600)
    return fd
  } catch (err) {
    closeSync(fd)
    throw err
  }
}
