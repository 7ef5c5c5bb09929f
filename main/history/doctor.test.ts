import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backupsDir, listBackups } from './backup'
import { runDoctor } from './doctor'
import { acquireLock } from './lock'
import { redactForHistory } from './redact'
import { createTemplate } from './test-fixtures/template-db'

let t: Awaited<ReturnType<typeof createTemplate>>
let seeded: string
let pkeyFile: string

beforeAll(async () => {
  t = await createTemplate('cmdai-history-doctor-')
  seeded = t.fresh('seeded')
  const store = await t.open(seeded)
  await store.recordCommands(
    Array.from({ length: 3000 }, (_, i) => ({
      command: `make target-${i % 300}`,
      startedAt: 1_700_000_000_000 + i,
      exitCode: 0,
      source: 'terminal',
    })),
  )
  pkeyFile = (
    await store.db.query<{ p: string }>(`SELECT pg_relation_filepath('commands_pkey') AS p`)
  ).rows[0]!.p
  await store.close()
}, 180_000)
afterAll(() => t?.remove())

function copy(name: string): string {
  mkdirSync(join(t.root, name), { recursive: true })
  const dir = join(t.root, name, 'history')
  cpSync(seeded, dir, { recursive: true })
  return dir
}

const doctor = (historyDir: string, action?: 'check' | 'restore' | 'fresh', backup?: string) =>
  runDoctor({ historyDir, action, backup, redact: redactForHistory })

describe('backups', () => {
  it('are written 0600, kept N, and made daily only when there is something to keep', async () => {
    const dir = copy('backups')
    const store = await t.open(dir)
    try {
      const first = await store.maybeBackup()
      expect(first).not.toBeNull()
      expect(await store.maybeBackup()).toBeNull() // less than a day old
      for (let i = 0; i < 3; i++) await store.backup({ keep: 2 })
      const all = listBackups(dir)
      expect(all).toHaveLength(2)
      for (const b of all) {
        expect(readdirSync(backupsDir(dir))).toContain(b.name)
        expect(statSync(b.file).mode & 0o777).toBe(0o600)
        expect(b.bytes).toBeGreaterThan(10_000)
      }
    } finally {
      await store.close()
    }
    const empty = await t.open(t.fresh('empty-backup'))
    expect(await empty.maybeBackup()).toBeNull()
    await empty.close()
  }, 120_000)
})

describe('cmdai history doctor', () => {
  it('finds a healthy database healthy, with its counts', async () => {
    const report = await doctor(copy('healthy'))
    expect(report.before).toMatchObject({
      state: 'healthy',
      problems: [],
      counts: { commands: 3000, texts: 300 },
    })
  }, 120_000)

  it('a corrupt control file: check names it; --restore keeps the damaged folder and puts the backup in place', async () => {
    const dir = copy('restore')
    const store = await t.open(dir)
    await store.backup()
    await store.close()
    truncateSync(join(dir, 'global', 'pg_control'), 100)

    const check = await doctor(dir)
    expect(check.before.state).toBe('damaged')
    expect(check.before.problems[0]!.file).toBe(join(dir, 'global', 'pg_control'))
    expect(check.backups.map((b) => b.file)).toHaveLength(1)
    expect(check.after).toBeUndefined()
    expect(readFileSync(join(dir, 'global', 'pg_control')).length).toBe(100) // untouched

    const fixed = await doctor(dir, 'restore')
    expect(fixed.movedAside).toMatch(/history\.damaged-\d{8}T\d{9}Z$/)
    expect(readFileSync(join(fixed.movedAside!, 'global', 'pg_control')).length).toBe(100)
    expect(fixed.after).toMatchObject({ state: 'healthy', counts: { commands: 3000 } })
    const reopened = await t.open(dir)
    expect(
      (await reopened.search({ query: 'target-299', mode: 'substring', limit: 3 })).hits.length,
    ).toBe(1)
    await reopened.close()
  }, 180_000)

  it('--fresh on a folder that is not a database: set aside, empty history in place', async () => {
    const dir = join(t.root, 'foreign', 'history')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'notes.txt'), 'mine')
    const report = await doctor(dir, 'fresh')
    expect(report.before.state).toBe('damaged')
    expect(readFileSync(join(report.movedAside!, 'notes.txt'), 'utf8')).toBe('mine')
    expect(report.after).toMatchObject({ state: 'healthy', counts: { commands: 0 } })
  }, 120_000)

  it('--restore with no backup says so and changes nothing', async () => {
    const dir = copy('no-backup')
    await expect(doctor(dir, 'restore')).rejects.toThrow(/No backups in/)
    expect(existsSync(join(dir, 'PG_VERSION'))).toBe(true)
  }, 120_000)

  it('a damaged index page that still opens: amcheck finds it', async () => {
    const dir = copy('bad-page')
    // Overwrite the middle of the primary key's second page (its size stays whole pages).
    const fd = openSync(join(dir, pkeyFile), 'r+')
    writeSync(fd, Buffer.alloc(2000, 0x7f), 0, 2000, 8192 + 3000)
    closeSync(fd)
    const report = await doctor(dir)
    expect(report.before.state).toBe('damaged')
    expect(report.before.problems.map((p) => p.meaning).join('\n')).toMatch(/commands_pkey/)
  }, 120_000)

  it('refuses while another process holds the database', async () => {
    const dir = copy('busy')
    const lock = acquireLock(join(dir, '..', 'history.lock'), 'app')
    try {
      await expect(doctor(dir)).rejects.toThrow(/in use by the running cmdai app \(pid/)
    } finally {
      lock.release()
    }
  })
})
