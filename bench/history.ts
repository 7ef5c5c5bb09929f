/**
 * History benchmark: insert rate, database open time, and p50/p95 search latency per mode at 10k
 * and 100k rows, against SQLite FTS5 (better-sqlite3; unicode61 and trigram tokenizers) on the
 * same rows in the same run. Last line: one JSON object.
 *
 * `pglite` figures are `HistoryStore.search`, the path the app uses: the in-memory index built
 * from PGlite (search-index.ts). `sqlPath` times the same searches done in SQL (tsvector, pg_trgm,
 * pgvector; `searchSql`) with fewer runs, for reference. Before timing, the benchmark checks that
 * both paths return the same hits for full text and substring.
 *
 * Then the import (history-import.ts): the real CLI importing 100k and 200k zsh lines, with
 * rows/s, peak memory, the data folder's size against the text, and the open time after.
 *
 *   npm run bench:history            (BENCH_HISTORY_SIZES=10000,100000 to change the sizes,
 *                                     BENCH_HISTORY_IMPORT_SIZES=100000,200000 the import's;
 *                                     an empty value skips that part)
 */
import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { HistoryFilter, SearchMode } from '../contract/history'
import { HashedTrigramEmbedder } from '../main/history/embedder'
import { redactForHistory } from '../main/history/redact'
import { queryWords } from '../main/history/search'
import { HistoryStore, type CommandInput } from '../main/history/store'
import { generateHistory } from '../main/history/synthetic'
import { benchImport } from './history-import'

const sizes = (v: string) => v.split(',').filter(Boolean).map(Number)
const SIZES = sizes(process.env.BENCH_HISTORY_SIZES ?? '10000,100000')
const IMPORT_SIZES = sizes(process.env.BENCH_HISTORY_IMPORT_SIZES ?? '100000,200000')
const RUNS = Number(process.env.BENCH_HISTORY_RUNS ?? 200)
const SQL_RUNS = Number(process.env.BENCH_HISTORY_SQL_RUNS ?? 30)
const LIMIT = 50

const QUERIES: Record<SearchMode, string[]> = {
  text: [
    'git',
    'git commit',
    'docker run',
    'kubectl pods',
    'npm',
    'dock',
    'vitest',
    'ssh prod',
    'grep handler',
    'cargo test',
    'curl api',
    'rsync',
    'log',
    'make',
    'psql count',
  ],
  substring: [
    'git com',
    'node',
    '.json',
    'pods -n',
    'c/api',
    'docker',
    'release/',
    'HEAD~',
    'grep -rn',
    'tar -czf',
    'ls',
    'v2/',
    'kubectl logs',
    '--rm',
    'backup',
  ],
  fuzzy: [
    'gti comit',
    'dokcer ps',
    'kubctl get pod',
    'npm isntall',
    'git chekout main',
    'vitset run',
    'ssh depoy',
    'grpe handler',
    'cargo bulid',
    'docker lgos',
    'mkae test',
    'rsycn',
    'pyhton scripts',
    'git stauts',
    'curl api exmaple',
  ],
  semantic: [
    'list running containers',
    'show recent commits',
    'install a package',
    'run the tests',
    'connect to production server',
    'search source for handler',
    'compress a backup',
    'follow pod logs',
    'switch git branch',
    'query the database',
  ],
}

interface Latency {
  p50: number
  p95: number
  mean: number
}

function percentiles(samples: number[]): Latency {
  const s = [...samples].sort((a, b) => a - b)
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!
  const mean = s.reduce((a, b) => a + b, 0) / s.length
  return { p50: round(at(0.5)), p95: round(at(0.95)), mean: round(mean) }
}

const round = (x: number) => Math.round(x * 1000) / 1000

async function time<T>(runs: number, queries: string[], fn: (q: string) => Promise<T> | T) {
  for (const q of queries) await fn(q) // warm-up
  const samples: number[] = []
  for (let i = 0; i < runs; i++) {
    const q = queries[i % queries.length]!
    const t0 = performance.now()
    await fn(q)
    samples.push(performance.now() - t0)
  }
  return percentiles(samples)
}

/** The SQLite FTS5 baseline: a history table with external-content FTS5 indexes. */
function createSqlite(rows: CommandInput[]) {
  const db = new Database(':memory:')
  db.exec(`
    CREATE TABLE history (id INTEGER PRIMARY KEY, command TEXT, cwd TEXT, exit INTEGER,
      timestamp INTEGER, duration INTEGER);
    CREATE VIRTUAL TABLE fts_word USING fts5(command, content='history', content_rowid='id',
      tokenize='unicode61');
    CREATE VIRTUAL TABLE fts_tri USING fts5(command, content='history', content_rowid='id',
      tokenize='trigram');`)
  const insert = db.prepare(
    'INSERT INTO history (command, cwd, exit, timestamp, duration) VALUES (?, ?, ?, ?, ?)',
  )
  const t0 = performance.now()
  db.transaction(() => {
    for (const r of rows) insert.run(r.command, r.cwd, r.exitCode, r.startedAt, r.durationMs)
  })()
  db.exec(
    `INSERT INTO fts_word(fts_word) VALUES ('rebuild'); INSERT INTO fts_tri(fts_tri) VALUES ('rebuild');`,
  )
  const insertMs = performance.now() - t0
  // Same semantics as ours: every word, the last one as a prefix; best 50 by bm25.
  const word = db.prepare(
    `SELECT h.id, h.command, h.timestamp FROM fts_word JOIN history h ON h.id = fts_word.rowid
     WHERE fts_word MATCH ? ORDER BY rank LIMIT ${LIMIT}`,
  )
  // Deduplicated like ours (one hit per distinct command, latest first).
  const wordDedup = db.prepare(
    `SELECT h.command, max(h.timestamp) AS last, count(*) AS uses FROM history h
     WHERE h.id IN (SELECT rowid FROM fts_word WHERE fts_word MATCH ?)
     GROUP BY h.command ORDER BY last DESC LIMIT ${LIMIT}`,
  )
  const tri = db.prepare(
    `SELECT h.id, h.command, h.timestamp FROM fts_tri JOIN history h ON h.id = fts_tri.rowid
     WHERE fts_tri.command LIKE ? ESCAPE '\\' LIMIT ${LIMIT}`,
  )
  const triDedup = db.prepare(
    `SELECT h.command, max(h.timestamp) AS last, count(*) AS uses FROM history h
     WHERE h.id IN (SELECT rowid FROM fts_tri WHERE fts_tri.command LIKE ? ESCAPE '\\')
     GROUP BY h.command ORDER BY last DESC LIMIT ${LIMIT}`,
  )
  const toMatch = (q: string) => {
    const words = queryWords(q)
    return words.map((w, i) => `"${w}"${i === words.length - 1 ? '*' : ''}`).join(' ')
  }
  const toLike = (q: string) => `%${q.replace(/[\\%_]/g, (m) => `\\${m}`)}%`
  return {
    insertMs,
    word: (q: string) => word.all(toMatch(q)),
    wordDedup: (q: string) => wordDedup.all(toMatch(q)),
    substring: (q: string) => tri.all(toLike(q)),
    substringDedup: (q: string) => triDedup.all(toLike(q)),
    close: () => db.close(),
  }
}

async function main() {
  const maxSize = Math.max(0, ...SIZES)
  const all = generateHistory({ count: maxSize, seed: 7 })
  const dir = mkdtempSync(join(tmpdir(), 'cmdai-bench-history-'))
  const results: Record<string, unknown>[] = []
  const embedder = new HashedTrigramEmbedder(Number(process.env.BENCH_HISTORY_DIMS ?? 256))
  let store: HistoryStore | null = null
  try {
    let t0 = performance.now()
    store = await HistoryStore.open({
      dir: join(dir, 'history'),
      redact: redactForHistory,
      owner: 'bench',
    })
    const firstOpenMs = performance.now() - t0
    console.log(`first open (initdb + migrations): ${firstOpenMs.toFixed(0)} ms`)

    // Insert rate, the terminal path: one command per transaction, as captured.
    const single = all.slice(0, 500)
    t0 = performance.now()
    for (const row of single) await store.recordCommands([row])
    const singleMs = performance.now() - t0
    const singleRate = single.length / (singleMs / 1000)
    console.log(`insert, one per transaction: ${singleRate.toFixed(0)} rows/s`)

    let inserted = single.length
    let bulkMs = 0
    for (const size of SIZES) {
      t0 = performance.now()
      for (let i = inserted; i < size; i += 1000) {
        await store.recordCommands(all.slice(i, Math.min(size, i + 1000)))
      }
      bulkMs += performance.now() - t0
      const bulkRate = (size - inserted) / ((performance.now() - t0) / 1000)
      inserted = size
      console.log(
        `\n== ${size} rows ==  bulk insert (1000 per transaction): ${bulkRate.toFixed(0)} rows/s`,
      )

      await store.close()
      t0 = performance.now()
      store = await HistoryStore.open({
        dir: join(dir, 'history'),
        redact: redactForHistory,
        owner: 'bench',
      })
      const reopenMs = performance.now() - t0
      const distinct = (
        await store.db.query<{ n: number }>('SELECT count(*)::int AS n FROM command_texts')
      ).rows[0]!.n
      const indexLoadMs = store.indexLoadMs
      console.log(
        `reopen: ${reopenMs.toFixed(0)} ms (of which building the search index ${indexLoadMs.toFixed(0)} ms); distinct texts: ${distinct}`,
      )

      t0 = performance.now()
      store.setEmbedder(embedder)
      await store.embedAll()
      const embedMs = performance.now() - t0
      console.log(`embeddings (${embedder.model}) for ${distinct} texts: ${embedMs.toFixed(0)} ms`)

      const s = store
      const modes: Record<string, Latency> = {}
      for (const mode of ['text', 'substring', 'fuzzy', 'semantic'] as const) {
        modes[mode] = await time(RUNS, QUERIES[mode], (q) =>
          s.search({ query: q, mode, limit: LIMIT }),
        )
      }
      const filtered = await time(RUNS, QUERIES.text, (q) =>
        s.search({
          query: q,
          mode: 'text',
          limit: LIMIT,
          filter: { cwd: '/home/dev/src', exit: 'ok' },
        }),
      )
      // Each filter on its own and combined, over the full-text and substring queries.
      const newest = Math.round(all[size - 1]!.startedAt)
      const FILTERS: HistoryFilter[] = [
        { cwd: '/home/dev/src/api-1' },
        { exit: 'fail' },
        { since: newest - 30 * 86_400_000, until: newest + 1 },
        { host: 'desktop' },
        { shell: 'fish' },
        { origin: 'typed' },
        { sessionId: 'no-such-session' },
        { cwd: '/home/dev/src', exit: 1, shell: 'zsh', since: newest - 365 * 86_400_000 },
      ]
      const mixQueries = QUERIES.text.flatMap((q, i) => [
        { q, mode: 'text' as const, filter: FILTERS[i % FILTERS.length]! },
        { q: QUERIES.substring[i]!, mode: 'substring' as const, filter: FILTERS[(i + 3) % 8]! },
      ])
      const byKey = new Map(mixQueries.map((m) => [JSON.stringify(m), m]))
      const filterMix = await time(RUNS, [...byKey.keys()], (key) => {
        const m = byKey.get(key)!
        return s.search({ query: m.q, mode: m.mode, limit: LIMIT, filter: m.filter })
      })
      const sample = (await s.search({ query: 'git commit', mode: 'text', limit: 5 })).hits.length
      if (!sample) throw new Error('search found nothing: the benchmark is broken')
      // The index and SQL answer the same (full text, substring, filtered).
      for (const [q, mode, filter] of [
        ['git commit', 'text', undefined],
        ['dock', 'text', undefined],
        ['.json', 'substring', undefined],
        ['npm', 'text', { cwd: '/home/dev/src', exit: 'ok' }],
        ['log', 'substring', FILTERS[2]],
      ] as const) {
        const a = await s.search({ query: q, mode, limit: LIMIT, filter })
        const b = await s.searchSql({ query: q, mode, limit: LIMIT, filter })
        const key = (r: typeof a) => r.hits.map((h) => `${h.command}|${h.uses}|${h.failures}`)
        if (JSON.stringify(key(a)) !== JSON.stringify(key(b))) {
          throw new Error(`index and SQL disagree on ${mode} "${q}"`)
        }
      }
      const sqlPath: Record<string, Latency> = {}
      for (const mode of ['text', 'substring'] as const) {
        sqlPath[mode] = await time(SQL_RUNS, QUERIES[mode], (q) =>
          s.searchSql({ query: q, mode, limit: LIMIT }),
        )
      }

      const sqlite = createSqlite(all.slice(0, size))
      const fts = {
        word: await time(RUNS, QUERIES.text, sqlite.word),
        wordDedup: await time(RUNS, QUERIES.text, sqlite.wordDedup),
        trigram: await time(RUNS, QUERIES.substring, sqlite.substring),
        trigramDedup: await time(RUNS, QUERIES.substring, sqlite.substringDedup),
      }
      sqlite.close()
      const ratio = {
        text: round(modes.text!.p95 / fts.word.p95),
        substring: round(modes.substring!.p95 / fts.trigram.p95),
      }
      console.log('mode        p50 ms   p95 ms')
      for (const [name, l] of Object.entries(modes)) {
        console.log(
          `${name.padEnd(10)} ${l.p50.toFixed(2).padStart(7)} ${l.p95.toFixed(2).padStart(8)}`,
        )
      }
      console.log(
        `text+filter ${filtered.p50.toFixed(2).padStart(6)} ${filtered.p95.toFixed(2).padStart(8)}`,
      )
      console.log(
        `filter mix  ${filterMix.p50.toFixed(2).padStart(6)} ${filterMix.p95.toFixed(2).padStart(8)}`,
      )
      for (const [name, l] of Object.entries(sqlPath)) {
        console.log(
          `sql ${name.padEnd(10)} ${l.p50.toFixed(2).padStart(6)} ${l.p95.toFixed(2).padStart(8)}`,
        )
      }
      for (const [name, l] of Object.entries(fts)) {
        console.log(
          `fts5 ${name.padEnd(13)} ${l.p50.toFixed(2).padStart(6)} ${l.p95.toFixed(2).padStart(8)}`,
        )
      }
      console.log(`p95 ratio vs FTS5: text ${ratio.text}x, substring ${ratio.substring}x`)
      results.push({
        rows: size,
        distinctTexts: distinct,
        reopenMs: Math.round(reopenMs),
        indexLoadMs: Math.round(indexLoadMs),
        bulkInsertRowsPerSec: Math.round(bulkRate),
        embedMs: Math.round(embedMs),
        pglite: { ...modes, textFiltered: filtered, filterMix },
        sqlPath,
        fts5: fts,
        p95RatioVsFts5: ratio,
      })
    }
    const imports = IMPORT_SIZES.length ? await benchImport(IMPORT_SIZES, dir) : []
    const last = results[results.length - 1] as { pglite: Record<string, Latency> } | undefined
    const first = results[0] as { pglite: Record<string, Latency> } | undefined
    const growth: Record<string, number> = {}
    if (first && last && results.length > 1) {
      for (const mode of Object.keys(last.pglite)) {
        growth[mode] = round(last.pglite[mode]!.p95 / first.pglite[mode]!.p95)
      }
    }
    console.log(
      JSON.stringify({
        bench: 'history',
        embedder: embedder.model,
        firstOpenMs: Math.round(firstOpenMs),
        insertSingleRowsPerSec: Math.round(singleRate),
        bulkInsertMs: Math.round(bulkMs),
        runsPerMode: RUNS,
        limit: LIMIT,
        sizes: results,
        p95GrowthLargestVsSmallest: growth,
        import: imports,
      }),
    )
  } finally {
    await store?.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
