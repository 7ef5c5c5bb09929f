import { afterAll, describe, expect, it, vi } from 'vitest'
import { CLOSE, writePattern } from '../contract/sync'
import type { AuditLog } from './audit/audit-log'
import type { Storage } from './storage/storage'
import {
  clientPool,
  patternIds,
  testPattern,
  freshDataDir,
  startTestServer,
  tempRoot,
  waitUntil,
} from './testing/harness'

// Real servers, databases and processes: generous bounds for a busy 2-core machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 240_000 })

const tmp = tempRoot('cmdai-sync-failures-')
const pool = clientPool()
afterAll(() => {
  pool.destroyAll()
  tmp.cleanup()
})

const connect = pool.connect
const pattern = testPattern
const ids = patternIds
const rowCount = async (s: Storage, room: string) =>
  Number(
    (
      await s.sql.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM doc_updates WHERE room = $1',
        [room],
      )
    ).rows[0]!.n,
  )

describe('storage and audit failures', () => {
  it('a failed load serves nothing, writes nothing, and the stored state survives', async () => {
    const dir = await freshDataDir(tmp.root, 'load')
    const first = await startTestServer({ dir })
    const token = await first.token('acme', 'ana', 'engineer', '30d')
    const a = connect(first.url, 'acme/lib', token)
    await a.synced()
    writePattern(a.doc, pattern('stored'))
    await waitUntil('stored', () => first.server.rooms()[0]?.storedRows === 1)
    a.destroy()
    await first.close()

    let failLoads = true
    const second = await startTestServer({
      dir,
      wrapStorage: (s) => ({
        ...s,
        loadDocument: async (room, tx) => {
          if (failLoads) throw new Error('disk on fire')
          return s.loadDocument(room, tx)
        },
      }),
    })
    try {
      const before = await rowCount(second.storage, 'acme/lib')
      const b = connect(second.url, 'acme/lib', token)
      // Offline edits the client holds must survive the refusal too.
      writePattern(b.doc, pattern('offline-edit'))
      await waitUntil('refused while storage fails', () =>
        b.closes.some((c) => c.code === CLOSE.storageUnavailable),
      )
      expect(b.provider.synced).toBe(false)
      expect(await rowCount(second.storage, 'acme/lib')).toBe(before)
      failLoads = false
      // Transient close: the stock client retries on its own and converges.
      await b.synced()
      await waitUntil('both patterns', () => ids(b).join() === 'offline-edit,stored')
      const check = connect(second.url, 'acme/lib', token)
      await check.synced()
      await waitUntil('stored state intact', () => ids(check).join() === 'offline-edit,stored')
    } finally {
      await second.close()
    }
  })

  it('refuses a change whose audit record cannot be written; the client resends it later', async () => {
    let failAudit = false
    const wrap = (audit: AuditLog): AuditLog =>
      Object.assign(Object.create(audit) as AuditLog, {
        append: (
          drafts: Parameters<AuditLog['append']>[0],
          tx?: Parameters<AuditLog['append']>[1],
        ) => {
          if (failAudit && drafts.some((d) => d.kind === 'library.change'))
            return Promise.reject(new Error('audit disk full'))
          return audit.append(drafts, tx)
        },
      })
    const srv = await startTestServer({
      dir: await freshDataDir(tmp.root, 'audit'),
      wrapAudit: wrap,
    })
    try {
      const token = await srv.token('acme', 'ana', 'engineer')
      const writer = connect(srv.url, 'acme/lib', token)
      const reader = connect(srv.url, 'acme/lib', token)
      await Promise.all([writer.synced(), reader.synced()])
      failAudit = true
      writePattern(writer.doc, pattern('unaudited'))
      await waitUntil('writer told to retry', () =>
        writer.closes.some((c) => c.code === CLOSE.storageUnavailable),
      )
      expect(ids(reader)).toEqual([])
      expect(await rowCount(srv.storage, 'acme/lib')).toBe(0)
      failAudit = false
      await waitUntil('resent after reconnect', () => ids(reader).includes('unaudited'), 15_000)
      await srv.server.commit({})
      const lines: string[] = []
      for await (const { line } of srv.audit.lines('acme')) lines.push(line)
      expect(lines.some((l) => l.includes('"library.change"') && l.includes('unaudited'))).toBe(
        true,
      )
      expect((await srv.admin.auditVerify({ team: 'acme' }))[0]).toMatchObject({ ok: true })
    } finally {
      await srv.close()
    }
  })

  it('a stored row that does not decode fails the room without touching storage', async () => {
    const srv = await startTestServer({ dir: await freshDataDir(tmp.root, 'corrupt') })
    try {
      const token = await srv.token('acme', 'ana', 'engineer')
      const valid = new (await import('yjs')).Doc()
      writePattern(valid, pattern('ok'))
      const { encodeStateAsUpdate } = await import('yjs')
      await srv.storage.appendUpdates([
        { room: 'acme/broken', data: encodeStateAsUpdate(valid) },
        { room: 'acme/broken', data: new Uint8Array([9, 9, 9, 0xff, 0xff]) },
      ])
      const c = connect(srv.url, 'acme/broken', token)
      await waitUntil('refused', () => c.closes.some((x) => x.code === CLOSE.storageUnavailable))
      await expect(srv.storage.compactDocument('acme/broken', 1)).rejects.toThrow()
      expect(await rowCount(srv.storage, 'acme/broken')).toBe(2)
    } finally {
      await srv.close()
    }
  })

  it('compacts stored updates in the background and unloads idle rooms, losing nothing', async () => {
    const srv = await startTestServer({
      dir: await freshDataDir(tmp.root, 'unload'),
      timings: { idleUnloadMs: 500, compactAfterRows: 10 },
    })
    try {
      const token = await srv.token('acme', 'ana', 'engineer')
      const c = connect(srv.url, 'acme/lib', token)
      await c.synced()
      for (let i = 0; i < 25; i++) {
        writePattern(c.doc, pattern(`p${i}`))
        await new Promise((r) => setTimeout(r, 10))
      }
      await waitUntil('compacted', () => (srv.server.rooms()[0]?.storedRows ?? 99) < 10)
      c.destroy()
      await waitUntil('unloaded', () => srv.server.rooms().length === 0)
      expect(await rowCount(srv.storage, 'acme/lib')).toBeLessThan(10)
      const again = connect(srv.url, 'acme/lib', token)
      await again.synced()
      await waitUntil('all back', () => ids(again).length === 25)
    } finally {
      await srv.close()
    }
  })
})
