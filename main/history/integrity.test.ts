import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inspectDataDir, PG_MAJOR } from './data-dir-check'
import { parsePgControl, walSegmentName } from './pg-control'
import { HistoryProblemError } from './problems'
import { createTemplate } from './test-fixtures/template-db'

/**
 * Each kind of damage to a database folder, on a copy of a real database holding rows: opening
 * it refuses with the file, what it means and the repair command, and changes nothing.
 */
let t: Awaited<ReturnType<typeof createTemplate>>
let seeded: string
const files: Record<string, string> = {}

beforeAll(async () => {
  t = await createTemplate('cmdai-history-integrity-')
  seeded = t.fresh('seeded')
  const store = await t.open(seeded)
  await store.ensureSession({ id: 's1', kind: 'terminal', startedAt: 1 })
  await store.recordCommands(
    Array.from({ length: 400 }, (_, i) => ({
      command: `echo row ${i} ${'x'.repeat(i % 60)}`,
      startedAt: 1_700_000_000_000 + i,
      exitCode: i % 7 ? 0 : 1,
      sessionId: 's1',
      source: 'terminal',
    })),
  )
  const res = await store.db.query<{ relname: string; path: string }>(
    `SELECT relname, pg_relation_filepath(oid) AS path FROM pg_class
     WHERE relname IN ('commands', 'command_texts', 'commands_pkey', 'sessions', 'schema_migrations')`,
  )
  for (const r of res.rows) files[r.relname] = r.path
  await store.close()
}, 180_000)
afterAll(() => t?.remove())

/** A copy of the seeded database with `damage` done to it. */
function damaged(name: string, damage: (dir: string) => void): string {
  const dir = join(t.root, name, 'history')
  mkdirSync(join(t.root, name), { recursive: true })
  cpSync(seeded, dir, { recursive: true })
  damage(dir)
  return dir
}

function snapshot(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) walk(p)
      else out.push(`${p.slice(dir.length)}:${readFileSync(p).length}`)
    }
  }
  walk(dir)
  return out.sort()
}

async function refusal(dir: string): Promise<HistoryProblemError> {
  const before = snapshot(dir)
  const err = await t.open(dir).then(
    async (store) => {
      await store.close()
      throw new Error('opened a damaged database')
    },
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(HistoryProblemError)
  const problem = (err as HistoryProblemError).problem
  expect(problem.repair).toMatch(/cmdai history doctor/)
  expect((err as Error).message).toContain(problem.file)
  // Nothing was initialised over it, nothing was repaired behind the user's back.
  expect(snapshot(dir)).toEqual(before)
  return err as HistoryProblemError
}

function checkpointSegment(dir: string): string {
  const parsed = parsePgControl(readFileSync(join(dir, 'global', 'pg_control')))
  if (!parsed.ok) throw new Error(parsed.reason)
  const c = parsed.control
  return walSegmentName(c.timeline, c.checkpointLsn, c.walSegmentSize)
}

describe('a damaged database folder is refused before PGlite may touch it', () => {
  it('reads pg_control: version, state, checkpoint segment present', () => {
    expect(readFileSync(join(seeded, 'PG_VERSION'), 'utf8').trim()).toBe(PG_MAJOR)
    const parsed = parsePgControl(readFileSync(join(seeded, 'global', 'pg_control')))
    expect(parsed).toMatchObject({ ok: true, control: { state: 'shut down', blockSize: 8192 } })
    expect(existsSync(join(seeded, 'pg_wal', checkpointSegment(seeded)))).toBe(true)
    expect(inspectDataDir(seeded)).toEqual({ kind: 'database' })
  })

  it('PG_VERSION deleted: refused, never re-created over the history', async () => {
    const dir = damaged('no-version', (d) => unlinkSync(join(d, 'PG_VERSION')))
    const err = await refusal(dir)
    expect(err.problem.file).toBe(join(dir, 'PG_VERSION'))
    expect(err.problem.meaning).toMatch(/is missing.*create an empty database over your history/)
  })

  it('pg_control truncated, or overwritten with garbage', async () => {
    const short = await refusal(
      damaged('control-short', (d) => truncateSync(join(d, 'global', 'pg_control'), 100)),
    )
    expect(short.problem.file).toMatch(/global\/pg_control$/)
    expect(short.problem.meaning).toMatch(
      /100 bytes instead of 8192: the control file was truncated/,
    )
    const garbage = await refusal(
      damaged('control-garbage', (d) =>
        writeFileSync(join(d, 'global', 'pg_control'), Buffer.alloc(8192, 0x5a)),
      ),
    )
    expect(garbage.problem.meaning).toMatch(/fails its checksum/)
  })

  it('the WAL segment with the last checkpoint truncated or deleted', async () => {
    const truncated = await refusal(
      damaged('wal-short', (d) => truncateSync(join(d, 'pg_wal', checkpointSegment(d)), 8192)),
    )
    expect(truncated.problem.file).toMatch(/pg_wal\/[0-9A-F]{24}$/)
    expect(truncated.problem.meaning).toMatch(/write-ahead log was truncated/)
    const gone = await refusal(
      damaged('wal-gone', (d) => unlinkSync(join(d, 'pg_wal', checkpointSegment(d)))),
    )
    expect(gone.problem.meaning).toMatch(/is missing: it holds the latest checkpoint/)
  })

  it('a table file cut mid-page', async () => {
    const err = await refusal(
      damaged('heap-partial', (d) => truncateSync(join(d, files.commands!), 4000)),
    )
    expect(err.problem.file).toBe(join(t.root, 'heap-partial', 'history', files.commands!))
    expect(err.problem.meaning).toMatch(/not a whole number of 8192-byte pages/)
  })

  it('table files cut to whole pages (rows silently gone): the consistency checks see it', async () => {
    for (const table of ['commands', 'command_texts', 'sessions'] as const) {
      const err = await refusal(
        damaged(`empty-${table}`, (d) => truncateSync(join(d, files[table]!), 0)),
      )
      expect(err.problem.file).toMatch(new RegExp(`${files[table]}$`))
      expect(err.problem.meaning).toMatch(new RegExp(`table "${table}"\\) lost rows`))
    }
    const migrations = await refusal(
      damaged('empty-migrations', (d) => truncateSync(join(d, files.schema_migrations!), 0)),
    )
    expect(migrations.problem.meaning).toMatch(/"schema_migrations"\)/)
  })

  it('an index file cut short or deleted: PostgreSQL’s error, named', async () => {
    const short = await refusal(
      damaged('index-short', (d) => truncateSync(join(d, files.commands_pkey!), 0)),
    )
    expect(short.problem.file).toMatch(new RegExp(`${files.commands_pkey}$`))
    expect(short.problem.meaning).toMatch(/commands_pkey.*truncated/)
    const gone = await refusal(damaged('heap-gone', (d) => unlinkSync(join(d, files.commands!))))
    expect(gone.problem.meaning).toMatch(/"commands"\) is missing/)
  })

  it('a folder of other files is not a database and is left alone', async () => {
    const dir = join(t.root, 'foreign', 'history')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'notes.txt'), 'mine')
    const err = await refusal(dir)
    expect(err.problem.meaning).toMatch(/not a cmdai history database \(notes\.txt\)/)
    expect(err.problem.repair).toMatch(/doctor --fresh/)
    expect(readdirSync(dir)).toEqual(['notes.txt'])
  })

  it('an empty folder, or a creation that was interrupted, becomes a new database', async () => {
    const empty = join(t.root, 'empty', 'history')
    mkdirSync(empty, { recursive: true })
    const a = await t.open(empty)
    expect(a.schemaVersion).toBeGreaterThan(0)
    await a.close()
    // Killed during initdb: the marker beside the half-made folder says so.
    const half = join(t.root, 'half', 'history')
    mkdirSync(join(half, 'base'), { recursive: true })
    writeFileSync(join(half, 'base', 'junk'), 'partial')
    writeFileSync(`${half}.creating`, '1234\n')
    const b = await t.open(half)
    expect((await b.stats()).totalCommands).toBe(0)
    await b.close()
    expect(existsSync(`${half}.creating`)).toBe(false)
  }, 120_000)
})
