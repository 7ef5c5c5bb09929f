import {
  chmodSync,
  closeSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs'
import { dirname, join } from 'node:path'

/** Owner-only modes for everything cmdai writes: nobody else on the machine may read history. */
export const PRIVATE_DIR_MODE = 0o700
export const PRIVATE_FILE_MODE = 0o600

/**
 * Creates `dir` (and missing parents) owner-only. `mkdir`'s mode is filtered by the umask and is
 * ignored for directories that already exist, so the mode is set explicitly afterwards. Parents
 * that already existed are left alone (they may be the user's own, e.g. `~/.local/share`).
 */
export function ensurePrivateDir(dir: string): void {
  const created = mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE })
  if (created) {
    // Every directory `mkdir -p` created, from the first new one down to `dir`.
    for (let d = dir; ; d = dirname(d)) {
      chmodSync(d, PRIVATE_DIR_MODE)
      if (d === created || dirname(d) === d) break
    }
  } else {
    chmodSync(dir, PRIVATE_DIR_MODE)
  }
}

/**
 * Takes every permission away from group and others under `root` (and on `root`): directories
 * become 0700 and files 0600 (0700 if the owner could execute them), whatever the umask was when
 * they were written (PGlite, for one, writes its files 0666). Symbolic links are neither followed
 * nor changed: a link may point at something the user owns elsewhere. Returns how many modes
 * were changed.
 */
export function tightenTree(root: string): number {
  let changed = 0
  const visit = (path: string, isRoot: boolean): void => {
    let st
    try {
      st = lstatSync(path)
    } catch (err) {
      // Removed while we walked (PGlite recycles WAL segments): nothing to tighten.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !isRoot) return
      throw err
    }
    if (st.isSymbolicLink()) return
    const want = st.isDirectory() ? PRIVATE_DIR_MODE : st.mode & 0o700
    if ((st.mode & 0o777) !== want) {
      chmodSync(path, want)
      changed++
    }
    if (!st.isDirectory()) return
    let names: string[]
    try {
      names = readdirSync(path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    for (const name of names) visit(join(path, name), false)
  }
  visit(root, true)
  return changed
}

/**
 * Creates the data directory owner-only (0700: nobody else can reach anything inside it), and
 * tightens what an older install left readable: its top-level files and the history database
 * and backups. Folders cmdai does not know are left alone, in case CMDAI_DATA_DIR points at a
 * folder that also holds the user's own things.
 */
export function prepareDataDir(dataDir: string): void {
  ensurePrivateDir(dataDir)
  for (const name of readdirSync(dataDir)) {
    const path = join(dataDir, name)
    const st = lstatSync(path)
    const own = OWN_DIRS.has(name) || name.startsWith('history.')
    if (st.isFile() || (st.isDirectory() && own)) tightenTree(path)
  }
}

/** Folders of the data directory that hold only cmdai's own files (and `history.*` set aside). */
const OWN_DIRS = new Set(['history', 'backups', 'models'])

/**
 * Writes a file atomically and owner-only: a temporary file in the same directory (created 0600,
 * so the contents are never readable by others, even for a moment), flushed, then renamed over
 * the target. A crash leaves either the old file or the new one, never half of one.
 */
export function writePrivateFile(path: string, data: string | Uint8Array): void {
  ensurePrivateDir(dirname(path))
  const tmp = `${path}.${process.pid}.tmp`
  const fd = openSync(tmp, 'w', PRIVATE_FILE_MODE)
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data
    let off = 0
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off)
    fsyncSync(fd)
  } catch (err) {
    closeSync(fd)
    rmSync(tmp, { force: true })
    throw err
  }
  closeSync(fd)
  chmodSync(tmp, PRIVATE_FILE_MODE)
  renameSync(tmp, path)
}
