import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { readLibrary, writePattern } from '../../contract/sync'
import { SqlAuditLog } from '../audit/sql-log'
import { verifyChain } from '../audit/chain'
import { freshDataDir, tempRoot } from '../testing/harness'
import { openEmbeddedStorage } from './data-dir'
import { createSqlStorage, type Storage } from './storage'

vi.setConfig({ testTimeout: 120_000, hookTimeout: 240_000 })

const tmp = tempRoot('cmdai-sync-storage-')
let storage: Storage

beforeAll(async () => {
  storage = await openEmbeddedStorage(await freshDataDir(tmp.root, 'db'))
})
afterAll(async () => {
  await storage?.close()
  tmp.cleanup()
})

describe('storage (PGlite; the same SQL runs on Postgres in scale-out.test.ts)', () => {
  it('compacts a room into one row with the same document, and only the rows it read', async () => {
    const doc = new Y.Doc()
    const updates: Uint8Array[] = []
    doc.on('update', (u: Uint8Array) => updates.push(u))
    for (let i = 0; i < 30; i++)
      writePattern(doc, {
        id: `p${i % 7}`,
        title: `t${i}`,
        command: `echo ${i}`,
        author: 'a',
        createdAt: 1,
        updatedAt: i,
      })
    await storage.appendUpdates(updates.map((data) => ({ room: 'acme/lib', data })))
    await storage.appendUpdates([{ room: 'acme/other', data: updates[0]! }])
    expect(await storage.compactDocument('acme/lib', 100)).toBe(0)
    expect(await storage.compactDocument('acme/lib', 10)).toBe(updates.length)
    const rows = await storage.loadDocument('acme/lib')
    expect(rows).toHaveLength(1)
    const loaded = new Y.Doc()
    Y.applyUpdate(loaded, rows[0]!)
    expect(readLibrary(loaded)).toEqual(readLibrary(doc))
    expect(await storage.loadDocument('acme/other')).toHaveLength(1)
    expect(await storage.listRooms()).toEqual([
      { room: 'acme/lib', rows: 1 },
      { room: 'acme/other', rows: 1 },
    ])
  })

  it('records client events once per id', async () => {
    await storage.createTeam('acme')
    const ev = (id: string) => ({ id, user: 'ana', kind: 'command.run', ts: 1, event: '{}' })
    expect(
      [...(await storage.insertEvents('acme', [ev('e1'), ev('e2'), ev('e2')]))].sort(),
    ).toEqual(['e1', 'e2'])
    expect([...(await storage.insertEvents('acme', [ev('e2'), ev('e3')]))]).toEqual(['e3'])
  })

  it('applies audit retention in the table and the kept chain still verifies', async () => {
    const audit = new SqlAuditLog(storage)
    for (let i = 0; i < 10; i++)
      await audit.append([{ team: 'ret', kind: 'client.event', actor: 'a', data: { i } }])
    const r = await audit.retain('ret', Date.now() + 1_000, 'admin')
    expect(r).toMatchObject({ removed: 9, keptFromSeq: 10 })
    const report = await verifyChain('ret', audit.lines('ret'), [], async () => null)
    expect(report).toMatchObject({ ok: true, firstSeq: 10, records: 2 })
  })

  it('refuses a database from a newer server and a data dir that is not a database', async () => {
    await storage.sql.query('INSERT INTO sync_schema (version, applied_at) VALUES (99, 0)')
    try {
      await expect(createSqlStorage(storage.sql)).rejects.toThrow(/newer than this server supports/)
    } finally {
      await storage.sql.query('DELETE FROM sync_schema WHERE version = 99')
    }
    const dir = join(tmp.root, 'not-a-db')
    mkdirSync(join(dir, 'db'), { recursive: true })
    writeFileSync(join(dir, 'db', 'precious.txt'), 'keep me')
    await expect(openEmbeddedStorage(dir)).rejects.toThrow(/refusing to initialise over it/)
  })
})
