import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { Analytics } from '../../contract/console'
import { HTTP_PATHS, type ClientEvent } from '../../contract/sync'
import { SqlAuditLog } from '../audit/sql-log'
import { openPostgres } from '../storage/sql-client'
import { createSqlStorage, type Storage } from '../storage/storage'
import { freshDataDir, tempRoot } from '../testing/harness'
import { startPostgres, type PostgresInstance } from '../testing/services'
import { percentile, weekSplit } from './analytics'
import { startConsoleServer, type ConsoleTestServer } from './testing'

vi.setConfig({ testTimeout: 60_000, hookTimeout: 240_000 })

/**
 * Analytics against figures worked out by hand, in embedded (PGlite) and Postgres mode: events
 * go in through the real events endpoint with members' tokens (replays included) and come out of
 * the rollups the trigger keeps.
 */
const DAY = 86_400_000
const now = Date.now()
const today = now - (now % DAY) + 3_600_000
const yesterday = today - DAY

type Draft = Omit<ClientEvent, 'id' | 'team'>
let n = 0
const ev = (d: Draft): ClientEvent => ({ id: `event-${++n}-xxxxxx`, team: 'acme', ...d })

const ana: ClientEvent[] = [
  ev({ kind: 'ai.decision', ts: today, decision: 'ran', model: 'm1', latencyMs: 150 }),
  ev({ kind: 'ai.decision', ts: today, decision: 'ran', model: 'm1', latencyMs: 250 }),
  ev({ kind: 'ai.decision', ts: yesterday, decision: 'edited', model: 'm1', latencyMs: 1200 }),
  ev({
    kind: 'command.run',
    ts: today,
    library: 'deploy',
    patternId: 'p1',
    exitCode: 0,
    risk: 'moderate',
    command: 'make deploy',
  }),
  ev({
    kind: 'command.run',
    ts: today,
    library: 'deploy',
    patternId: 'p1',
    exitCode: 2,
    risk: 'moderate',
    command: 'make deploy',
  }),
  // Forty days ago: outside a 30-day window.
  ev({ kind: 'ai.decision', ts: today - 40 * DAY, decision: 'ran', model: 'm1', latencyMs: 100 }),
]
const bob: ClientEvent[] = [
  ev({ kind: 'ai.decision', ts: today, decision: 'cancelled', model: 'm2', latencyMs: 40_000 }),
  ev({
    kind: 'ai.decision',
    ts: yesterday,
    decision: 'blocked',
    model: 'm2',
    latencyMs: 800,
    risk: 'critical',
  }),
  ev({ kind: 'ai.decision', ts: today, decision: 'copied' }),
  ev({
    kind: 'command.run',
    ts: yesterday,
    library: 'deploy',
    patternId: 'p1',
    exitCode: 2,
    risk: 'moderate',
    command: 'make deploy',
  }),
  ev({
    kind: 'command.run',
    ts: today,
    library: 'deploy',
    patternId: 'p2',
    exitCode: 127,
    risk: 'high',
    command: 'dpl',
  }),
  ev({ kind: 'command.run', ts: today, exitCode: 1, risk: 'safe', command: 'ls /nope' }),
  ev({
    kind: 'policy.decision',
    ts: today,
    decision: 'blocked',
    risk: 'critical',
    command: 'rm -rf /',
  }),
]

const tmp = tempRoot('cmdai-console-analytics-')
let pg: PostgresInstance
const servers: Record<'pglite' | 'postgres', ConsoleTestServer | null> = {
  pglite: null,
  postgres: null,
}
let pgStorage: Storage | null = null

async function post(srv: ConsoleTestServer, token: string, events: ClientEvent[]) {
  const res = await fetch(`${srv.base}${HTTP_PATHS.events}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ events }),
  })
  expect(res.status).toBe(200)
  return (await res.json()) as { accepted: number; duplicates: number }
}

async function load(srv: ConsoleTestServer): Promise<void> {
  const anaToken = await srv.token('acme', 'ana', 'engineer')
  const bobToken = await srv.token('acme', 'bob', 'junior')
  expect(await post(srv, anaToken, ana)).toEqual({ accepted: ana.length, duplicates: 0 })
  expect(await post(srv, bobToken, bob)).toEqual({ accepted: bob.length, duplicates: 0 })
  // An offline queue replayed: nothing is counted twice.
  expect(await post(srv, anaToken, ana)).toEqual({ accepted: 0, duplicates: ana.length })
  // Another team's events stay out of acme's figures.
  const other = await srv.token('other', 'zed', 'engineer')
  await post(srv, other, [
    {
      ...ev({ kind: 'ai.decision', ts: today, decision: 'ran', model: 'm1', latencyMs: 5 }),
      team: 'other',
    },
  ])
}

beforeAll(async () => {
  servers.pglite = await startConsoleServer({ dir: await freshDataDir(tmp.root, 'pglite') })
  pg = await startPostgres(tmp.root)
  pgStorage = await createSqlStorage(await openPostgres(pg.url))
  servers.postgres = await startConsoleServer({
    storage: pgStorage,
    audit: new SqlAuditLog(pgStorage),
  })
  for (const srv of Object.values(servers)) await load(srv!)
})

afterAll(async () => {
  for (const srv of Object.values(servers)) await srv?.close()
  await pgStorage?.close()
  await pg?.stop()
  tmp.cleanup()
})

describe.each(['pglite', 'postgres'] as const)('analytics in %s mode', (mode) => {
  const get = async (days: number): Promise<Analytics> => {
    const srv = servers[mode]!
    const c = await srv.signIn('acme', `admin-${mode}-${days}`, 'admin')
    const res = await c.get(`/analytics?days=${days}`)
    expect(res.status).toBe(200)
    return res.json as Analytics
  }

  it('matches the hand-computed figures over 30 days', async () => {
    const a = await get(30)
    expect(a.totals).toEqual({ suggestions: 6, accepted: 2, runs: 5, failedRuns: 4, blocked: 2 })
    expect(a.suggestionsPerDay).toHaveLength(30)
    const day = (t: number) =>
      a.suggestionsPerDay.find((d) => d.day === new Date(t).toISOString().slice(0, 10))
    expect(day(today)).toMatchObject({ ran: 2, edited: 0, copied: 1, cancelled: 1, blocked: 0 })
    expect(day(yesterday)).toMatchObject({ ran: 0, edited: 1, copied: 0, cancelled: 0, blocked: 1 })
    expect(a.acceptanceByMember).toEqual([
      { user: 'ana', suggestions: 3, ran: 2, rate: 2 / 3 },
      { user: 'bob', suggestions: 3, ran: 0, rate: 0 },
    ])
    // m1: 150, 250, 1200 ms; m2: 800 and 40 s (the open bucket); unknown: no latency sent.
    expect(a.acceptanceByModel).toEqual([
      { model: 'm1', suggestions: 3, ran: 2, rate: 2 / 3, p50Ms: 250, p95Ms: 1425 },
      { model: 'm2', suggestions: 2, ran: 0, rate: 0, p50Ms: 1000, p95Ms: 30_000 },
      { model: 'unknown', suggestions: 1, ran: 0, rate: 0, p50Ms: null, p95Ms: null },
    ])
    expect(a.latency.count).toBe(5)
    expect(a.latency.meanMs).toBeCloseTo((150 + 250 + 1200 + 800 + 40_000) / 5, 6)
    expect(a.latency.p50Ms).toBe(875)
    expect(a.latency.p95Ms).toBe(30_000)
    expect(a.latency.buckets.filter((b) => b.n > 0)).toEqual([
      { upToMs: 200, n: 1 },
      { upToMs: 300, n: 1 },
      { upToMs: 1000, n: 1 },
      { upToMs: 1500, n: 1 },
      { upToMs: null, n: 1 },
    ])
    expect(a.riskOfRuns).toEqual([
      { risk: 'safe', n: 1 },
      { risk: 'moderate', n: 3 },
      { risk: 'high', n: 1 },
      { risk: 'critical', n: 0 },
    ])
    expect(a.topPatterns).toEqual([
      { library: 'deploy', patternId: 'p1', runs: 3, failures: 2 },
      { library: 'deploy', patternId: 'p2', runs: 1, failures: 1 },
    ])
    expect(a.failingPatterns).toEqual([
      { library: 'deploy', patternId: 'p1', runs: 3, failures: 2, exitCodes: [{ code: 2, n: 2 }] },
      {
        library: 'deploy',
        patternId: 'p2',
        runs: 1,
        failures: 1,
        exitCodes: [{ code: 127, n: 1 }],
      },
    ])
    expect(a.failingCommands).toEqual([
      { command: 'make deploy', failures: 2, exitCodes: [{ code: 2, n: 2 }] },
      { command: 'dpl', failures: 1, exitCodes: [{ code: 127, n: 1 }] },
      { command: 'ls /nope', failures: 1, exitCodes: [{ code: 1, n: 1 }] },
    ])
  })

  it('narrows to today with days=1 and widens to the old event with days=60', async () => {
    const one = await get(1)
    expect(one.totals).toEqual({ suggestions: 4, accepted: 2, runs: 4, failedRuns: 3, blocked: 1 })
    expect(one.suggestionsPerDay).toHaveLength(1)
    const sixty = await get(60)
    expect(sixty.totals.suggestions).toBe(7)
    expect(sixty.totals.accepted).toBe(3)
  })
})

describe('percentiles from the histogram', () => {
  it('interpolates inside the bucket that reaches the rank', () => {
    // 10 in [0,100), 10 in [100,200): the median is the top of the first bucket.
    const b = new Array(15).fill(0)
    b[0] = 10
    b[1] = 10
    expect(percentile(b, 0.5)).toBe(100)
    expect(percentile(b, 0.75)).toBe(150)
    expect(percentile(new Array(15).fill(0), 0.5)).toBeNull()
  })
})

describe('long periods read whole weeks and the days around them', () => {
  it('covers every day of the period exactly once', () => {
    for (let from = -20; from < 40; from++)
      for (let to = from; to < from + 60; to++) {
        const [headEnd, tailStart, w0, w1] = weekSplit(from, to)
        const seen = new Map<number, number>()
        const see = (d: number) => seen.set(d, (seen.get(d) ?? 0) + 1)
        for (let d = from; d <= headEnd; d++) see(d)
        for (let w = w0; w <= w1; w++) for (let d = w * 7; d < w * 7 + 7; d++) see(d)
        for (let d = tailStart; d <= to; d++) see(d)
        expect([...seen.keys()].sort((a, b) => a - b)).toEqual(
          Array.from({ length: to - from + 1 }, (_, i) => from + i),
        )
        expect([...seen.values()].every((n) => n === 1)).toBe(true)
      }
  })
})
