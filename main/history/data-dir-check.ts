import { existsSync, readdirSync, readFileSync, statSync, type Stats } from 'node:fs'
import { join } from 'node:path'
import { parsePgControl, PG_CONTROL_SIZE, walSegmentName } from './pg-control'

/** The PostgreSQL major version of the bundled PGlite (a test checks it against a fresh database). */
export const PG_MAJOR = '18'

const BLOCK = 8192
/** Relation files: `<oid>`, `<oid>_fsm|_vm|_init`, and their 1 GB segments `<oid>.<n>`. */
const RELATION_FILE = /^\d+(_(fsm|vm|init))?(\.\d+)?$/
const WAL_SEGMENT = /^[0-9A-F]{24}$/
/** Folders PostgreSQL cannot start without. */
const REQUIRED_DIRS = ['global', 'base', 'pg_wal', 'pg_xact', 'pg_multixact']

/** One thing wrong with a data directory, found before PGlite is allowed to open it. */
export interface DirProblem {
  /** Path relative to the database folder, e.g. `global/pg_control`. */
  file: string
  /** What is wrong and what it means, as a sentence fragment after the file name. */
  meaning: string
}

export type DataDirState =
  /** Absent or empty: PGlite may create a database here. */
  | { kind: 'new' }
  | { kind: 'database' }
  /** Files are there, but not a database: never initialise over them. */
  | { kind: 'foreign'; entries: string[] }
  | { kind: 'damaged'; problems: DirProblem[] }

/**
 * Looks at a history database folder without opening it. PGlite re-creates a database over
 * anything that lacks `PG_VERSION` and answers a damaged control file or missing WAL with a bare
 * "Aborted()", so every one of those is caught here first.
 */
export function inspectDataDir(dir: string): DataDirState {
  let st: Stats
  try {
    st = statSync(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'new' }
    throw err
  }
  if (!st.isDirectory()) {
    return { kind: 'damaged', problems: [{ file: '.', meaning: 'is a file, not a folder' }] }
  }
  const entries = readdirSync(dir)
  if (entries.length === 0) return { kind: 'new' }
  const hasPgFiles = ['global', 'base', 'pg_wal', 'pg_xact'].some((d) => entries.includes(d))
  if (!entries.includes('PG_VERSION') && !hasPgFiles) {
    return { kind: 'foreign', entries: entries.slice(0, 10) }
  }

  const problems: DirProblem[] = []
  const add = (file: string, meaning: string) => problems.push({ file, meaning })
  checkVersion(dir, add)
  for (const d of REQUIRED_DIRS) {
    if (!isDir(join(dir, d))) add(d, 'is missing: part of the database was deleted')
  }
  const control = checkControl(dir, add)
  if (isDir(join(dir, 'pg_wal'))) checkWal(dir, control, add)
  if (isDir(join(dir, 'base'))) {
    const dbs = readdirSync(join(dir, 'base')).filter((n) => /^\d+$/.test(n))
    if (dbs.length === 0) add('base', 'holds no database: its tables were deleted')
    for (const db of dbs) checkRelationDir(dir, join('base', db), add)
  }
  if (isDir(join(dir, 'global'))) checkRelationDir(dir, 'global', add)
  for (const d of ['pg_xact', 'pg_multixact/offsets', 'pg_multixact/members']) {
    if (isDir(join(dir, d))) checkPagedFiles(dir, d, add)
  }
  return problems.length ? { kind: 'damaged', problems } : { kind: 'database' }
}

type Add = (file: string, meaning: string) => void

function checkVersion(dir: string, add: Add): void {
  const path = join(dir, 'PG_VERSION')
  if (!existsSync(path)) {
    add(
      'PG_VERSION',
      'is missing: the folder holds a database whose version marker was deleted (opening it ' +
        'as it is would create an empty database over your history)',
    )
    return
  }
  const version = readFileSync(path, 'latin1').trim()
  if (!/^\d+$/.test(version)) {
    add('PG_VERSION', `does not hold a PostgreSQL version ("${version.slice(0, 20)}"): damaged`)
  } else if (version !== PG_MAJOR) {
    add(
      'PG_VERSION',
      `says PostgreSQL ${version}, but this cmdai uses PostgreSQL ${PG_MAJOR}: the database was ` +
        'made by another version of cmdai',
    )
  }
}

interface ControlInfo {
  redoSegment: string
  checkpointSegment: string
  walSegmentSize: number
}

function checkControl(dir: string, add: Add): ControlInfo | null {
  const file = 'global/pg_control'
  const path = join(dir, file)
  if (!existsSync(path)) {
    add(file, "is missing: PostgreSQL cannot tell where the database's last consistent state is")
    return null
  }
  const size = statSync(path).size
  if (size !== PG_CONTROL_SIZE) {
    add(file, `is ${size} bytes instead of ${PG_CONTROL_SIZE}: the control file was truncated`)
    return null
  }
  const parsed = parsePgControl(readFileSync(path))
  if (!parsed.ok) {
    add(file, `${parsed.reason}: PostgreSQL cannot start from it`)
    return null
  }
  const c = parsed.control
  const segSize = c.walSegmentSize
  if (segSize < 1 << 20 || segSize > 1 << 30 || (segSize & (segSize - 1)) !== 0) {
    add(file, `names an impossible WAL segment size (${segSize}): damaged`)
    return null
  }
  return {
    redoSegment: walSegmentName(c.timeline, c.redoLsn, segSize),
    checkpointSegment: walSegmentName(c.timeline, c.checkpointLsn, segSize),
    walSegmentSize: segSize,
  }
}

function checkWal(dir: string, control: ControlInfo | null, add: Add): void {
  const segments = readdirSync(join(dir, 'pg_wal')).filter((n) => WAL_SEGMENT.test(n))
  if (control) {
    for (const needed of new Set([control.redoSegment, control.checkpointSegment])) {
      if (!segments.includes(needed)) {
        add(
          `pg_wal/${needed}`,
          'is missing: it holds the latest checkpoint, and the changes since then cannot be replayed',
        )
      }
    }
  } else if (segments.length === 0) {
    add('pg_wal', 'holds no WAL segment: recent changes are gone')
  }
  for (const name of segments) {
    const size = statSync(join(dir, 'pg_wal', name)).size
    const expected = control?.walSegmentSize
    // Segments are always created at full size, so a shorter one was truncated.
    if ((expected !== undefined && size !== expected) || size % BLOCK !== 0 || size === 0) {
      add(
        `pg_wal/${name}`,
        `is ${size} bytes instead of ${expected ?? 'a full segment'}: the write-ahead log was ` +
          'truncated, and changes recorded in it would be lost',
      )
    }
  }
}

function checkRelationDir(dir: string, rel: string, add: Add): void {
  const names = readdirSync(join(dir, rel))
  for (const name of names) {
    if (name === 'pg_filenode.map') {
      const size = statSync(join(dir, rel, name)).size
      // 512 bytes up to PostgreSQL 16, 524 since.
      if (size !== 512 && size !== 524) {
        add(
          `${rel}/${name}`,
          `is ${size} bytes instead of 524: the map of system tables is damaged`,
        )
      }
      continue
    }
    if (!RELATION_FILE.test(name)) continue
    const size = statSync(join(dir, rel, name)).size
    if (size % BLOCK !== 0) {
      add(
        `${rel}/${name}`,
        `is ${size} bytes, not a whole number of ${BLOCK}-byte pages: a table or index file was ` +
          'truncated or overwritten',
      )
    }
  }
  if (rel !== 'global' && !names.includes('PG_VERSION')) {
    add(`${rel}/PG_VERSION`, 'is missing: the database folder was damaged')
  }
  if (!names.includes('pg_filenode.map')) {
    add(`${rel}/pg_filenode.map`, 'is missing: PostgreSQL cannot find its system tables')
  }
}

function checkPagedFiles(dir: string, rel: string, add: Add): void {
  for (const name of readdirSync(join(dir, rel))) {
    const size = statSync(join(dir, rel, name)).size
    if (size % BLOCK !== 0) {
      add(
        `${rel}/${name}`,
        `is ${size} bytes, not whole pages: the transaction status was truncated`,
      )
    }
  }
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}
