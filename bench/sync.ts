/**
 * Sync server benchmark. Against cmdai's server (sign-in, durable group-committed storage, audit
 * log; a child process running what `cmdai-sync start --data DIR` runs) and the stock
 * `@y/websocket-server` 0.1.1 (in memory, no auth) in the same run, with the same stock
 * y-websocket clients in this process:
 *
 * - 100 clients editing one library (each changes its own pattern once a second, random phase):
 *   p50/p95/p99 time from an edit to its arrival at each other client, delivered/expected,
 *   accepted updates per second;
 * - server memory per connection and per room (heap + array buffers after GC: 1 room x 100
 *   connections against 100 rooms x 1 connection), and with 1,000 idle connections;
 * - audit log: append rate (embedded segment files) and the time to verify 1M records.
 *
 *   npm run bench:sync     (BENCH_SYNC_SECONDS=10, BENCH_SYNC_CLIENTS=100, BENCH_SYNC_ROUNDS=2,
 *                          BENCH_SYNC_VERIFY=1000000)
 *
 * Latency figures are medians over the rounds (stock and cmdai alternate which runs first).
 *
 * Last line: one JSON object.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { DOC_ROOT, writePattern } from '../contract/sync'
import { verifyChain } from '../sync-server/audit/chain'
import { FileAuditLog } from '../sync-server/audit/file-log'

const SECONDS = Number(process.env.BENCH_SYNC_SECONDS ?? 10)
const CLIENTS = Number(process.env.BENCH_SYNC_CLIENTS ?? 100)
const VERIFY_RECORDS = Number(process.env.BENCH_SYNC_VERIFY ?? 1_000_000)
const IDLE = Number(process.env.BENCH_SYNC_IDLE ?? 1_000)
const ROUNDS = Number(process.env.BENCH_SYNC_ROUNDS ?? 2)

interface Mem {
  rss: number
  heapUsed: number
  external: number
  arrayBuffers: number
}

class Child {
  readonly proc: ChildProcess
  url = ''
  private waiting: Array<(msg: { type: string; value?: unknown }) => void> = []

  constructor(readonly mode: 'cmdai' | 'stock') {
    this.proc = fork(join(import.meta.dirname, 'sync-child.ts'), [mode], {
      execArgv: [
        '--import',
        'tsx',
        '--expose-gc',
        // BENCH_SYNC_PROFILE=DIR: CPU profiles of the server processes, for finding hot spots.
        ...(process.env.BENCH_SYNC_PROFILE
          ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_SYNC_PROFILE}`]
          : []),
      ],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    this.proc.on('message', (msg: { type: string; value?: unknown }) => this.waiting.shift()?.(msg))
  }

  next(): Promise<{ type: string; value?: unknown; url?: string }> {
    return new Promise((resolve) => this.waiting.push(resolve))
  }

  async start(): Promise<void> {
    const ready = (await this.next()) as { url: string }
    this.url = ready.url
  }

  async ask<T>(msg: unknown): Promise<T> {
    const reply = this.next()
    this.proc.send(msg as object)
    return (await reply).value as T
  }

  async stop(): Promise<void> {
    const exited = new Promise((r) => this.proc.once('exit', r))
    this.proc.send({ type: 'stop' })
    await exited
  }
}

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d

async function waitUntil(probe: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (!probe() && Date.now() < deadline) await sleep(20)
  return probe()
}

/** 100 stock clients, one library, one edit per client per second. */
async function editLoad(server: Child, token: string | null) {
  const room = 'bench/library'
  const params: Record<string, string> = token ? { token } : {}
  const docs: Y.Doc[] = []
  const providers: WebsocketProvider[] = []
  const sent = new Map<string, number>()
  const latencies: number[] = []
  let delivered = 0
  for (let i = 0; i < CLIENTS; i++) {
    const doc = new Y.Doc()
    const provider = new WebsocketProvider(server.url, room, doc, {
      params,
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      disableBc: true,
    })
    docs.push(doc)
    providers.push(provider)
    doc.getMap(DOC_ROOT.patterns).observeDeep((events, tr) => {
      if (tr.local) return
      const now = performance.now()
      for (const e of events) {
        if (!(e instanceof Y.YMapEvent) || !e.keysChanged.has('title')) continue
        const title = (e.target as Y.Map<unknown>).get('title')
        const at = typeof title === 'string' ? sent.get(title) : undefined
        if (at === undefined) continue
        latencies.push(now - at)
        delivered++
      }
    })
  }
  await waitUntil(() => providers.every((p) => p.synced), 60_000)
  // Every client's pattern exists before timing (created by the clients themselves).
  for (let i = 0; i < CLIENTS; i++)
    writePattern(docs[i]!, {
      id: `p${i}`,
      title: `p${i}`,
      command: `echo {{n}} ${i}`,
      author: 'bench',
      createdAt: 0,
      updatedAt: 0,
    })
  await waitUntil(() => docs.every((d) => d.getMap(DOC_ROOT.patterns).size === CLIENTS), 60_000)
  await sleep(500)

  const timers: NodeJS.Timeout[] = []
  let edits = 0
  const started = performance.now()
  for (let i = 0; i < CLIENTS; i++) {
    let seq = 0
    const tick = () => {
      const map = docs[i]!.getMap(DOC_ROOT.patterns).get(`p${i}`) as Y.Map<unknown>
      const title = `${i}:${++seq}`
      sent.set(title, performance.now())
      docs[i]!.transact(() => {
        map.set('title', title)
        map.set('updatedAt', seq)
      })
      edits++
    }
    timers.push(
      setTimeout(() => {
        tick()
        timers.push(setInterval(tick, 1000))
      }, Math.random() * 1000),
    )
  }
  await sleep(SECONDS * 1000)
  for (const t of timers) clearTimeout(t)
  const expected = edits * (CLIENTS - 1)
  await waitUntil(() => delivered >= expected, 10_000)
  const elapsed = (performance.now() - started) / 1000
  const mem = await server.ask<Mem>({ type: 'mem' })
  for (const p of providers) p.destroy()
  for (const d of docs) d.destroy()
  latencies.sort((a, b) => a - b)
  return {
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    delivered,
    expected,
    edits,
    updatesPerSec: edits / SECONDS,
    deliveredPerSec: delivered / elapsed,
    mem,
  }
}

/** Raw sockets that sign in, send a sync step 1 and stay idle. */
async function idleConnections(
  server: Child,
  token: string | null,
  rooms: number,
  perRoom: number,
) {
  const sockets: WebSocket[] = []
  const step1 = Buffer.from([0, 0, 1, 0])
  let ready = 0
  for (let r = 0; r < rooms; r++)
    for (let c = 0; c < perRoom; c++) {
      const ws = new WebSocket(`${server.url}/bench/idle-${r}${token ? `?token=${token}` : ''}`)
      ws.on('error', () => {})
      ws.on('open', () => ws.send(step1))
      ws.once('message', () => ready++)
      sockets.push(ws)
      if (sockets.length % 100 === 0) await sleep(20)
    }
  await waitUntil(() => ready === sockets.length, 60_000)
  await sleep(500)
  const mem = await server.ask<Mem>({ type: 'mem' })
  for (const ws of sockets) ws.terminate()
  await sleep(500)
  return { mem, open: ready }
}

async function measureServer(mode: 'cmdai' | 'stock') {
  const server = new Child(mode)
  await server.start()
  const token = mode === 'cmdai' ? await server.ask<string>({ type: 'token', user: 'bench' }) : null
  await sleep(500)
  const base = await server.ask<Mem>({ type: 'mem' })
  const load = await editLoad(server, token)
  const oneRoom = await idleConnections(server, token, 1, 100)
  const manyRooms = await idleConnections(server, token, 100, 1)
  const idle = await idleConnections(server, token, 10, IDLE / 10)
  await server.stop()
  const heap = (m: Mem) => m.heapUsed + m.arrayBuffers
  // m1 = base + R + 100 C, m2 = base + 100 R + 100 C (rooms stay loaded while idle-unload waits).
  const room = (heap(manyRooms.mem) - heap(oneRoom.mem)) / 99
  const conn = (heap(oneRoom.mem) - heap(base) - room) / 100
  return {
    ...load,
    memPerConnectionKB: conn / 1024,
    memPerRoomKB: room / 1024,
    idleConnections: idle.open,
    idleHeapMB: (heap(idle.mem) - heap(base)) / 2 ** 20,
  }
}

async function auditFigures() {
  const dir = mkdtempSync(join(tmpdir(), 'cmdai-bench-audit-'))
  try {
    const log = new FileAuditLog({ dir })
    const draft = (i: number) => ({
      team: 'bench',
      kind: 'library.change' as const,
      actor: `user${i % 50}`,
      role: 'engineer' as const,
      room: 'bench/library',
      data: {
        library: 'library',
        patterns: [{ id: `p${i % 100}`, change: 'changed', fields: ['title'] }],
        updates: 1,
      },
    })
    // Append rate: batches as a group commit makes them (one write per batch).
    const BATCH = 100
    const appendStarted = performance.now()
    const APPEND = 100_000
    for (let i = 0; i < APPEND; i += BATCH)
      await log.append(Array.from({ length: BATCH }, (_, j) => draft(i + j)))
    const appendPerSec = APPEND / ((performance.now() - appendStarted) / 1000)
    // Single-record appends (an idle server: one record per commit).
    const singleStarted = performance.now()
    for (let i = 0; i < 5_000; i++) await log.append([draft(i)])
    const singlePerSec = 5_000 / ((performance.now() - singleStarted) / 1000)
    const rest = VERIFY_RECORDS - APPEND - 5_000
    for (let i = 0; i < rest; i += 1_000)
      await log.append(Array.from({ length: Math.min(1_000, rest - i) }, (_, j) => draft(i + j)))
    await log.close()
    const verifyStarted = performance.now()
    const report = await verifyChain('bench', log.lines('bench'), [], async () => null)
    const verifySec = (performance.now() - verifyStarted) / 1000
    if (!report.ok) throw new Error(`verify failed: ${report.problem?.reason}`)
    return { appendPerSec, singlePerSec, verified: report.records, verifySec }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

// y-websocket's provider adds a process exit listener per instance under Node.
process.setMaxListeners(CLIENTS + IDLE + 50)
const load0 = loadavg()[0]!
console.log(
  `sync bench: ${CLIENTS} clients, ${SECONDS}s of edits, ${ROUNDS} rounds, load average ${load0.toFixed(1)}`,
)
type Result = Awaited<ReturnType<typeof measureServer>>
const runs: Record<'stock' | 'cmdai', Result[]> = { stock: [], cmdai: [] }
for (let round = 0; round < ROUNDS; round++) {
  // Alternate which goes first, so drift in the machine's load hits both alike.
  const order: Array<'stock' | 'cmdai'> = round % 2 ? ['cmdai', 'stock'] : ['stock', 'cmdai']
  for (const mode of order) {
    const r = await measureServer(mode)
    runs[mode].push(r)
    console.log(
      `round ${round + 1} ${mode === 'stock' ? 'stock @y/websocket-server 0.1.1' : 'cmdai-sync (sign-in, PGlite group commit, audit)'}: ` +
        `p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms; ` +
        `delivered ${r.delivered}/${r.expected}; ${r.updatesPerSec.toFixed(0)} updates/s; ` +
        `${r.memPerConnectionKB.toFixed(1)} KB/connection, ${r.memPerRoomKB.toFixed(1)} KB/room; ` +
        `${r.idleConnections} idle connections: +${r.idleHeapMB.toFixed(1)} MB heap; load ${loadavg()[0]!.toFixed(1)}`,
    )
  }
}
const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y)
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
const summarise = (rs: Result[]) => ({
  p50: median(rs.map((r) => r.p50)),
  p95: median(rs.map((r) => r.p95)),
  p99: median(rs.map((r) => r.p99)),
  delivered: rs.reduce((n, r) => n + r.delivered, 0),
  expected: rs.reduce((n, r) => n + r.expected, 0),
  updatesPerSec: median(rs.map((r) => r.updatesPerSec)),
  deliveredPerSec: median(rs.map((r) => r.deliveredPerSec)),
  memPerConnectionKB: median(rs.map((r) => r.memPerConnectionKB)),
  memPerRoomKB: median(rs.map((r) => r.memPerRoomKB)),
  idleConnections: Math.min(...rs.map((r) => r.idleConnections)),
  idleHeapMB: median(rs.map((r) => r.idleHeapMB)),
})
const stock = summarise(runs.stock)
const ours = summarise(runs.cmdai)
console.log(
  `median of ${ROUNDS}: cmdai-sync p95 ${ours.p95.toFixed(1)} ms against stock ${stock.p95.toFixed(1)} ms ` +
    `(${(ours.p95 / stock.p95).toFixed(2)}x); p50 ${ours.p50.toFixed(1)} vs ${stock.p50.toFixed(1)} ms`,
)
const audit = await auditFigures()
console.log(
  `audit: ${audit.appendPerSec.toFixed(0)} records/s appended in batches of 100, ${audit.singlePerSec.toFixed(0)}/s one at a time; ` +
    `verified ${audit.verified} records in ${audit.verifySec.toFixed(1)} s`,
)
console.log(
  JSON.stringify({
    clients: CLIENTS,
    seconds: SECONDS,
    rounds: ROUNDS,
    loadAverage: round(load0, 1),
    loadAverageEnd: round(loadavg()[0]!, 1),
    p50Ms: round(ours.p50),
    p95Ms: round(ours.p95),
    p99Ms: round(ours.p99),
    stockP50Ms: round(stock.p50),
    stockP95Ms: round(stock.p95),
    stockP99Ms: round(stock.p99),
    ratioP95: round(ours.p95 / stock.p95),
    delivered: ours.delivered,
    expected: ours.expected,
    stockDelivered: stock.delivered,
    stockExpected: stock.expected,
    updatesPerSec: round(ours.updatesPerSec, 0),
    deliveredPerSec: round(ours.deliveredPerSec, 0),
    memPerConnectionKB: round(ours.memPerConnectionKB, 1),
    memPerRoomKB: round(ours.memPerRoomKB, 1),
    stockMemPerConnectionKB: round(stock.memPerConnectionKB, 1),
    stockMemPerRoomKB: round(stock.memPerRoomKB, 1),
    idleConnections: ours.idleConnections,
    idleHeapMB: round(ours.idleHeapMB, 1),
    stockIdleHeapMB: round(stock.idleHeapMB, 1),
    auditAppendPerSec: round(audit.appendPerSec, 0),
    auditSingleAppendPerSec: round(audit.singlePerSec, 0),
    verifyRecords: audit.verified,
    verifySec: round(audit.verifySec, 2),
  }),
)
process.exit(0)
