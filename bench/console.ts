/**
 * Admin console benchmark.
 *
 * - Analytics over 1M client events, in embedded (PGlite in a temp data dir) and Postgres mode
 *   (a real PostgreSQL started on loopback): the events go in through the server's storage
 *   (`insertEvents`, as the events endpoint writes them; the console's trigger keeps the daily
 *   rollups, and its periodic ANALYZE their statistics), then the analytics answer (`computeAnalytics`, what `GET /admin/api/analytics`
 *   runs) is timed, p50/p95 over repeated calls for the last 30 days and the whole period.
 *   The events: 180 days, 200 members, 6 models, 8 libraries x 40 patterns, 3,000 distinct
 *   commands with a skewed (Zipf-like) popularity, 60% AI decisions, 35% runs, 5% blocks.
 * - The console's first load on loopback: a real server with the built console, a signed-in
 *   session, Chromium (Debian's) in a fresh context each time (cold cache), from navigation
 *   start to the first page's data on screen (the members table), p50/p95 over the runs.
 *
 *   npm run bench:console   (BENCH_CONSOLE_EVENTS=1000000, BENCH_CONSOLE_RUNS=40,
 *                            BENCH_CONSOLE_LOADS=15, BENCH_CONSOLE_MODES=pglite,postgres)
 *
 * Last line: one JSON object.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { chromium } from '@playwright/test'
import pino from 'pino'
import { resolveOutDir } from '../main/config/paths'
import { createApprovals } from '../sync-server/approvals/approvals'
import { FileAuditLog } from '../sync-server/audit/file-log'
import { KeyRing } from '../sync-server/auth/keys'
import { createConsole } from '../sync-server/console'
import { computeAnalytics, refreshRollupStatistics } from '../sync-server/console/analytics'
import { ensureConsoleSchema } from '../sync-server/console/schema'
import { issueSigninCode } from '../sync-server/console/sessions'
import { createSyncServer } from '../sync-server/server'
import { openEmbeddedStorage } from '../sync-server/storage/data-dir'
import { dataPaths } from '../sync-server/storage/paths'
import { openPostgres } from '../sync-server/storage/sql-client'
import { createSqlStorage, type Storage } from '../sync-server/storage/storage'
import { startPostgres } from '../sync-server/testing/services'

const EVENTS = Number(process.env.BENCH_CONSOLE_EVENTS ?? 1_000_000)
const RUNS = Number(process.env.BENCH_CONSOLE_RUNS ?? 40)
const LOADS = Number(process.env.BENCH_CONSOLE_LOADS ?? 15)
const MODES = (process.env.BENCH_CONSOLE_MODES ?? 'pglite,postgres')
  .split(',')
  .filter((m) => m === 'pglite' || m === 'postgres')
const BATCH = 2_000
const DAY = 86_400_000
const TEAM = 'bench'

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!
}

/** A deterministic generator (mulberry32), so both modes get the same events. */
function rng(seed: number) {
  let a = seed
  return () => {
    a |= 0
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const DECISIONS = ['ran', 'ran', 'ran', 'ran', 'edited', 'edited', 'copied', 'cancelled', 'blocked']
const RISKS = ['safe', 'safe', 'safe', 'moderate', 'moderate', 'high', 'critical']
const MODELS = [
  'qwen2.5-coder-0.5b',
  'qwen2.5-coder-1.5b',
  'qwen2.5-coder-3b',
  'qwen2.5-coder-7b',
  'ollama:llama3.1',
  'openai:gpt-4o-mini',
]

/** Events for `count`, in batches; also counts what it made (checked against the answer). */
function* events(count: number, now: number) {
  const r = rng(42)
  const zipf = (n: number) => Math.min(n - 1, Math.floor(n * r() ** 3))
  let made = 0
  const expect = { suggestions30: 0, runs30: 0 }
  const from30 = Math.floor(now / DAY) - 29
  while (made < count) {
    const batch: Array<{ id: string; user: string; kind: string; ts: number; event: string }> = []
    for (let i = 0; i < BATCH && made < count; i++, made++) {
      const ts = now - Math.floor(r() * 180 * DAY)
      const user = `member-${zipf(200)}`
      const x = r()
      const recent = Math.floor(ts / DAY) >= from30
      let event: Record<string, unknown>
      let kind: string
      if (x < 0.6) {
        kind = 'ai.decision'
        if (recent) expect.suggestions30++
        event = {
          decision: DECISIONS[Math.floor(r() * DECISIONS.length)],
          model: MODELS[zipf(MODELS.length)],
          latencyMs: Math.round(Math.exp(6.5 + r() * 2.5)),
          risk: RISKS[Math.floor(r() * RISKS.length)],
        }
      } else if (x < 0.95) {
        kind = 'command.run'
        if (recent) expect.runs30++
        const lib = `lib-${zipf(8)}`
        const fail = r() < 0.1
        event = {
          library: lib,
          patternId: `p${zipf(40)}`,
          command: `kubectl rollout restart deploy/app-${zipf(3_000)}`,
          exitCode: fail ? [1, 2, 127, 130][Math.floor(r() * 4)] : 0,
          risk: RISKS[Math.floor(r() * 5)],
        }
      } else {
        kind = 'policy.decision'
        event = { decision: 'blocked', risk: 'critical', command: 'rm -rf /' }
      }
      const id = `bench-${made}`
      batch.push({
        id,
        user,
        kind,
        ts,
        event: JSON.stringify({ id, kind, ts, team: TEAM, ...event }),
      })
    }
    yield { batch, expect }
  }
}

async function analyticsBench(mode: string, storage: Storage) {
  await ensureConsoleSchema(storage)
  await storage.createTeam(TEAM)
  const now = Date.now()
  const started = performance.now()
  let expect = { suggestions30: 0, runs30: 0 }
  let done = 0
  for (const { batch, expect: e } of events(EVENTS, now)) {
    await storage.transaction((tx) => storage.insertEvents(TEAM, batch, tx))
    expect = e
    done += batch.length
    if (done % 100_000 === 0) process.stderr.write(`  ${mode}: ${done} events\n`)
  }
  const insertSec = (performance.now() - started) / 1000
  // What the console's periodic statistics refresh does (every 10 minutes by default).
  await refreshRollupStatistics(storage.sql)
  const rollupRows = await storage.sql.query<{ n: number }>(
    `SELECT (SELECT count(*) FROM analytics_ai_member) + (SELECT count(*) FROM analytics_ai_model)
       + (SELECT count(*) FROM analytics_patterns) + (SELECT count(*) FROM analytics_command_exits)
       + (SELECT count(*) FROM analytics_ai_day) + (SELECT count(*) FROM analytics_latency)
       + (SELECT count(*) FROM analytics_outcomes) + (SELECT count(*) FROM analytics_pattern_exits) AS n`,
  )
  const timings: Record<number, number[]> = { 30: [], 180: [] }
  let check = { suggestions: 0, runs: 0 }
  // A few warm-up calls, then alternate the two periods.
  for (let i = 0; i < 3; i++) await computeAnalytics(storage.sql, TEAM, 30, now)
  for (let i = 0; i < RUNS; i++)
    for (const days of [30, 180]) {
      const t0 = performance.now()
      const a = await computeAnalytics(storage.sql, TEAM, days, now)
      timings[days]!.push(performance.now() - t0)
      if (days === 30) check = { suggestions: a.totals.suggestions, runs: a.totals.runs }
    }
  const ok = check.suggestions === expect.suggestions30 && check.runs === expect.runs30
  if (!ok)
    throw new Error(
      `${mode}: analytics disagree with the generated events (${JSON.stringify(check)} vs ${JSON.stringify(expect)})`,
    )
  return {
    insertSec: round(insertSec),
    insertPerSec: round(EVENTS / insertSec, 0),
    rollupRows: Number(rollupRows.rows[0]?.n ?? 0),
    p50Ms30: round(pct(timings[30]!, 0.5)),
    p95Ms30: round(pct(timings[30]!, 0.95)),
    p50Ms180: round(pct(timings[180]!, 0.5)),
    p95Ms180: round(pct(timings[180]!, 0.95)),
    checked: ok,
  }
}

async function firstLoadBench(root: string) {
  const assets = join(resolveOutDir(), 'console-ui')
  if (!existsSync(join(assets, 'index.html'))) {
    process.stderr.write('building the console (npm run build:console)...\n')
    const r = spawnSync('npm', ['run', 'build:console'], { stdio: 'inherit' })
    if (r.status !== 0) throw new Error('the console build failed')
  }
  const dir = join(root, 'load')
  const storage = await openEmbeddedStorage(dir)
  const audit = new FileAuditLog({ dir: dataPaths(dir).audit })
  const keys = await KeyRing.open(storage)
  let approvals: ReturnType<typeof createApprovals> | null = null
  const server = createSyncServer({
    storage,
    keys,
    audit,
    logger: pino({ level: 'silent' }),
    extensions: [
      (d) => (approvals = createApprovals(d)),
      (d) => createConsole(d, { assetsDir: assets, approvals: () => approvals, verifyEveryMs: 0 }),
    ],
  })
  const { port } = await server.listen(0)
  await ensureConsoleSchema(storage)
  await storage.createTeam(TEAM)
  for (let i = 0; i < 30; i++)
    await storage.upsertMember(TEAM, `member-${i}`, i ? 'engineer' : 'admin')
  const browser = await chromium.launch({
    executablePath: process.env.CMDAI_CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
    ],
  })
  const times: number[] = []
  const transfer: number[] = []
  try {
    for (let i = 0; i < LOADS; i++) {
      const { code } = await issueSigninCode(
        { storage, commit: (e) => server.commit(e), now: () => Date.now() },
        { team: TEAM, user: 'member-0', createdBy: 'bench' },
      )
      // A fresh context: no cache, no cookie, as the first visit of the day.
      const ctx = await browser.newContext()
      const page = await ctx.newPage()
      const signin = await ctx.request.get(`http://127.0.0.1:${port}/admin/signin?code=${code}`, {
        maxRedirects: 0,
      })
      const cookie = /cmdai_console=([^;]+)/.exec(signin.headers()['set-cookie'] ?? '')![1]!
      await ctx.addCookies([
        { name: 'cmdai_console', value: cookie, url: `http://127.0.0.1:${port}/admin/` },
      ])
      await page.goto(`http://127.0.0.1:${port}/admin/#/members`)
      await page.getByRole('rowheader', { name: 'member-29' }).waitFor()
      const ms = await page.evaluate(() => performance.now())
      if (process.env.BENCH_CONSOLE_DEBUG)
        process.stderr.write(
          JSON.stringify(
            await page.evaluate(() => ({
              nav: (
                performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming
              ).toJSON(),
              res: performance
                .getEntriesByType('resource')
                .map((e) => [
                  e.name.slice(-30),
                  Math.round(e.startTime),
                  Math.round((e as PerformanceResourceTiming).responseEnd),
                ]),
            })),
          ) + '\n',
        )
      const bytes = await page.evaluate(() =>
        performance
          .getEntriesByType('resource')
          .concat(performance.getEntriesByType('navigation'))
          .reduce((n, e) => n + ((e as PerformanceResourceTiming).transferSize || 0), 0),
      )
      times.push(ms)
      transfer.push(bytes)
      await ctx.close()
    }
  } finally {
    await browser.close()
    await server.close()
    await audit.close()
    await storage.close()
  }
  return {
    firstLoadP50Ms: round(pct(times, 0.5)),
    firstLoadP95Ms: round(pct(times, 0.95)),
    firstLoadMaxMs: round(Math.max(...times)),
    firstLoadKB: round(pct(transfer, 0.5) / 1024),
  }
}

const root = mkdtempSync(join(tmpdir(), 'cmdai-bench-console-'))
const load0 = loadavg()[0]!
const out: Record<string, unknown> = { events: EVENTS, runs: RUNS, loadAverage: round(load0) }
try {
  for (const mode of MODES) {
    process.stderr.write(`${mode}: inserting ${EVENTS} events...\n`)
    let storage: Storage
    let stop = async () => {}
    if (mode === 'postgres') {
      const pg = await startPostgres(root)
      storage = await createSqlStorage(await openPostgres(pg.url))
      stop = () => pg.stop()
    } else storage = await openEmbeddedStorage(join(root, 'pglite'))
    try {
      const r = await analyticsBench(mode, storage)
      console.log(`${mode}: ${JSON.stringify(r)}`)
      for (const [k, v] of Object.entries(r)) out[`${mode}.${k}`] = v
    } finally {
      await storage.close()
      await stop()
    }
  }
  const load = await firstLoadBench(root)
  console.log(`first load: ${JSON.stringify(load)}`)
  Object.assign(out, load)
  const p95s = MODES.map((m) => Math.max(Number(out[`${m}.p95Ms30`]), Number(out[`${m}.p95Ms180`])))
  if (p95s.length > 0) {
    out.analyticsP95Ms = Math.max(...p95s)
    out.analyticsTargetMet = Math.max(...p95s) < 300
  }
  out.firstLoadTargetMet = Number(out.firstLoadP95Ms) < 1000
  out.loadAverageEnd = round(loadavg()[0]!)
} finally {
  rmSync(root, { recursive: true, force: true })
}
console.log(JSON.stringify(out))
process.exit(0)
