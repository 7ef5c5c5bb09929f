import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { CLOSE, readLibrary, writePattern } from '../contract/sync'
import { restoreBackup, writeBackup } from './admin/backup'
import { SqlAuditLog } from './audit/sql-log'
import { RedisRelay } from './relay/redis-relay'
import { openEmbeddedStorage } from './storage/data-dir'
import { dataPaths } from './storage/paths'
import { openPostgres } from './storage/sql-client'
import { createSqlStorage, type Storage } from './storage/storage'
import { FileAuditLog } from './audit/file-log'
import { KeyRing } from './auth/keys'
import {
  clientPool,
  patternIds,
  testPattern,
  silentLogger,
  startTestServer,
  tempRoot,
  waitUntil,
  type TestServer,
} from './testing/harness'
import {
  startPostgres,
  startRedis,
  type PostgresInstance,
  type RedisInstance,
} from './testing/services'

// Real servers, databases and processes: generous bounds for a busy 2-core machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 240_000 })

/** Two server instances over one real PostgreSQL and one real Redis. */
const tmp = tempRoot('cmdai-sync-scale-')
let pg: PostgresInstance
let redis: RedisInstance
const instances: TestServer[] = []
const storages: Storage[] = []
const relays: RedisRelay[] = []
const pool = clientPool()

async function instance(): Promise<TestServer> {
  const storage = await createSqlStorage(await openPostgres(pg.url))
  storages.push(storage)
  const relay = await RedisRelay.connect(redis.url, silentLogger())
  relays.push(relay)
  const srv = await startTestServer({ storage, audit: new SqlAuditLog(storage), relay })
  instances.push(srv)
  return srv
}

const connect = pool.connect
const pattern = testPattern
const ids = patternIds

let a: TestServer
let b: TestServer

beforeAll(async () => {
  pg = await startPostgres(tmp.root)
  redis = await startRedis()
  a = await instance()
  b = await instance()
})

afterAll(async () => {
  pool.destroyAll()
  for (const s of instances) await s.close().catch(() => {})
  for (const r of relays) await r.close()
  for (const s of storages) await s.close().catch(() => {})
  await redis?.stop()
  await pg?.stop()
  tmp.cleanup()
})

describe('two instances over Postgres and Redis', () => {
  it('converge: edits and presence cross instances, a late joiner on either gets everything', async () => {
    const token = await a.token('acme', 'ana', 'engineer')
    const onA = connect(a.url, 'acme/lib', token)
    const onB = connect(b.url, 'acme/lib', token)
    await Promise.all([onA.synced(), onB.synced()])
    writePattern(onA.doc, pattern('from-a'))
    writePattern(onB.doc, pattern('from-b'))
    for (let i = 0; i < 20; i++)
      writePattern(i % 2 ? onA.doc : onB.doc, pattern('hot', { title: `t${i}` }))
    await waitUntil(
      'converged',
      () => ids(onA).join() === 'from-a,from-b,hot' && ids(onB).join() === ids(onA).join(),
    )
    await waitUntil(
      'same state',
      () => JSON.stringify(readLibrary(onA.doc)) === JSON.stringify(readLibrary(onB.doc)),
    )
    onA.provider.awareness.setLocalStateField('viewing', 'from-a')
    await waitUntil('presence crosses instances', () =>
      [...onB.provider.awareness.getStates().values()].some(
        (s) => (s as { viewing?: string }).viewing === 'from-a',
      ),
    )
    for (const srv of [a, b]) {
      const late = connect(srv.url, 'acme/lib', token)
      await late.synced()
      await waitUntil('late joiner', () => ids(late).join() === 'from-a,from-b,hot')
    }
    // One chain for the team, extended by both instances without forking.
    const reports = await a.admin.auditVerify({ team: 'acme' })
    expect(reports[0]?.problem).toBeUndefined()
    expect(reports[0]).toMatchObject({ ok: true })
    expect(reports[0]!.records).toBeGreaterThan(5)
  })

  it('a revocation on one instance closes the connection on the other within seconds', async () => {
    const token = await a.token('acme', 'bob', 'engineer')
    const onB = connect(b.url, 'acme/lib', token)
    await onB.synced()
    const started = Date.now()
    await a.admin.tokenRevoke({ team: 'acme', user: 'bob' })
    expect((await onB.closed).code).toBe(CLOSE.revoked)
    expect(Date.now() - started).toBeLessThan(8_000)
  })

  it('catches up from storage after Redis restarts (pub/sub lost messages)', async () => {
    const token = await a.token('acme', 'ana', 'engineer')
    const onA = connect(a.url, 'acme/redis', token)
    const onB = connect(b.url, 'acme/redis', token)
    await Promise.all([onA.synced(), onB.synced()])
    const port = new URL(redis.url).port
    await redis.stop()
    writePattern(onA.doc, pattern('while-redis-down'))
    await new Promise((r) => setTimeout(r, 300))
    expect(ids(onB)).toEqual([])
    const { spawn } = await import('node:child_process')
    const again = spawn(
      'redis-server',
      ['--port', port, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    )
    redis = { url: redis.url, child: again, stop: async () => void again.kill('SIGTERM') }
    await waitUntil(
      'B catches up from Postgres',
      () => ids(onB).includes('while-redis-down'),
      20_000,
    )
  })

  it('detects tampering in the Postgres audit table', async () => {
    const token = await a.token('tamper', 'ana', 'engineer')
    const c = connect(a.url, 'tamper/lib', token)
    await c.synced()
    for (let i = 0; i < 5; i++) writePattern(c.doc, pattern(`p${i}`))
    await waitUntil('written', () =>
      a.server.rooms().some((r) => r.ref.name === 'tamper/lib' && r.storedRows >= 1),
    )
    await a.server.commit({})
    const cp = await a.server.checkpointer.current('tamper')
    expect((await a.admin.auditVerify({ team: 'tamper', checkpoint: cp }))[0]!.ok).toBe(true)
    const sql = storages[0]!.sql
    const victim = await sql.query<{ seq: number }>(
      `SELECT seq::int AS seq FROM audit_records WHERE team = 'tamper' AND line LIKE '%"actor":"ana"%' ORDER BY seq LIMIT 1`,
    )
    const seq = victim.rows[0]!.seq
    const edit = (from: string, to: string) =>
      sql.query(
        `UPDATE audit_records SET line = replace(line, $1, $2) WHERE team = 'tamper' AND seq = $3`,
        [from, to, seq],
      )
    await edit('"actor":"ana"', '"actor":"eve"')
    const edited = (await a.admin.auditVerify({ team: 'tamper' }))[0]!
    expect(edited).toMatchObject({ ok: false, problem: { seq } })
    expect(edited.problem?.reason).toMatch(/edited/)
    await edit('"actor":"eve"', '"actor":"ana"')
    const head = cp!.seq
    await sql.query(`DELETE FROM audit_records WHERE team = 'tamper' AND seq = $1`, [head])
    const truncated = (await a.admin.auditVerify({ team: 'tamper', checkpoint: cp }))[0]!
    expect(truncated.ok).toBe(false)
    expect(truncated.problem?.reason).toMatch(/newest records removed/)
  })

  it('backs up from Postgres and restores into an embedded data dir (the same SQL)', async () => {
    const out = `${tmp.root}/pg.backup`
    const counts = await writeBackup(out, {
      storage: storages[1]!,
      audit: new SqlAuditLog(storages[1]!),
      snapshot: (fn) => storages[1]!.transaction(fn, { readOnly: true }),
    })
    expect(counts.documents).toBeGreaterThanOrEqual(2)
    const dir = `${tmp.root}/restored`
    const storage = await openEmbeddedStorage(dir)
    const audit = new FileAuditLog({ dir: dataPaths(dir).audit })
    try {
      const r = await restoreBackup(out, {
        storage,
        audit,
        keys: () => KeyRing.open(storage),
        auditDir: dataPaths(dir).audit,
      })
      // The tampered team was cut above: everything else verifies.
      expect(r.verify.filter((v) => v.team !== 'tamper').every((v) => v.ok)).toBe(true)
      const rows = await storage.loadDocument('acme/lib')
      expect(rows).toHaveLength(1)
      await expect(
        restoreBackup(out, {
          storage,
          audit,
          keys: () => KeyRing.open(storage),
          auditDir: dataPaths(dir).audit,
        }),
      ).rejects.toThrow(/already holds data/)
    } finally {
      await audit.close()
      await storage.close()
    }
  })
})
