import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { HistoryFilter, HistorySearchResult, SearchMode } from '../../contract/history'
import { HashedTrigramEmbedder } from './embedder'
import { editDistance, trigramSimilarity, trigrams, wordScore } from './fuzzy'
import { redactForHistory } from './redact'
import { loadSearchIndex } from './index-loader'
import { HistoryStore } from './store'
import { generateHistory } from './synthetic'

// The in-memory index (HistoryStore.search) against the SQL search (searchSql) on one real
// PGlite database holding a few thousand synthetic commands.
let root: string
let store: HistoryStore
const rows = generateHistory({ count: 3000, seed: 11 })
const newest = rows[rows.length - 1]!.startedAt

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'cmdai-history-index-'))
  store = await HistoryStore.open({
    dir: join(root, 'history'),
    redact: redactForHistory,
    embedder: new HashedTrigramEmbedder(32),
  })
  // Sessions, so that the session filter has something to find.
  await store.ensureSession({ id: 'a', kind: 'terminal', startedAt: 0 })
  await store.ensureSession({ id: 'b', kind: 'terminal', startedAt: 0 })
  for (let i = 0; i < rows.length; i += 500) {
    await store.recordCommands(
      rows.slice(i, i + 500).map((r, j) => ({ ...r, sessionId: (i + j) % 3 ? 'a' : 'b' })),
    )
  }
  await store.embedAll()
}, 120_000)

afterAll(async () => {
  await store?.close()
  rmSync(root, { recursive: true, force: true })
})

const FILTERS: Array<HistoryFilter | undefined> = [
  undefined,
  { cwd: '/home/dev/src' },
  { cwd: '/home/dev/src/api-1/' },
  { exit: 'ok' },
  { exit: 'fail' },
  { exit: 127 },
  { since: newest - 60 * 86_400_000, until: newest },
  { host: 'desktop' },
  { shell: 'fish' },
  { sessionId: 'b' },
  { origin: 'typed' },
  { origin: 'ai' },
  { cwd: '/home/dev/src', exit: 'fail', shell: 'zsh', since: newest - 400 * 86_400_000 },
]

const summary = (r: HistorySearchResult) =>
  r.hits.map((h) => ({
    command: h.command,
    uses: h.uses,
    failures: h.failures,
    lastId: h.last.id,
    lastStarted: h.last.startedAt,
    score: h.score,
  }))

async function same(query: string, mode: SearchMode, filter?: HistoryFilter, limit = 40) {
  const params = { query, mode, filter, limit }
  const fast = await store.search(params)
  const sql = await store.searchSql(params)
  const label = `${mode} "${query}" ${JSON.stringify(filter)}`
  // Scores move with the clock between the two calls (recency): compare them within 1e-4.
  const strip = (r: HistorySearchResult) => summary(r).map(({ score: _, ...rest }) => rest)
  expect(strip(fast), label).toEqual(strip(sql))
  fast.hits.forEach((h, i) => expect(h.score, label).toBeCloseTo(sql.hits[i]!.score, 4))
  return fast
}

describe('in-memory index answers like SQL', () => {
  it('full text: every word, the last one as a prefix, with each filter', async () => {
    let nonEmpty = 0
    for (const q of ['git', 'git commit', 'dock', 'kubectl pods', 'npm run', 'ssh', 'xyzzy', '']) {
      for (const filter of FILTERS) {
        if ((await same(q, 'text', filter)).hits.length) nonEmpty++
      }
    }
    expect(nonEmpty).toBeGreaterThan(60)
  })

  it('substring: anywhere, case-insensitive, with each filter', async () => {
    let nonEmpty = 0
    for (const q of ['git com', '.JSON', 'pods -n', 'c/api', '%', '_', 'HEAD~', '--rm']) {
      for (const filter of FILTERS) {
        if ((await same(q, 'substring', filter)).hits.length) nonEmpty++
      }
    }
    expect(nonEmpty).toBeGreaterThan(50)
  })

  it('semantic: the exact scan ranks like pgvector', async () => {
    for (const q of ['list running containers', 'install a package', 'git push']) {
      const fast = await store.search({ query: q, mode: 'semantic', limit: 10 })
      const sql = await store.searchSql({ query: q, mode: 'semantic', limit: 10 })
      expect(fast.hits.map((h) => h.command)).toEqual(sql.hits.map((h) => h.command))
      expect(fast.pendingEmbeddings).toBe(0)
    }
  })

  it('fuzzy: typos find the intended command first', async () => {
    const top = async (q: string) =>
      (await store.search({ query: q, mode: 'fuzzy', limit: 5 })).hits.map((h) => h.command)
    expect((await top('gti comit'))[0]).toMatch(/^git commit /)
    expect((await top('kubctl get pds'))[0]).toMatch(/^kubectl get pods/)
    expect((await top('dokcer ps'))[0]).toBe('docker ps')
    expect((await top('npm isntall'))[0]).toMatch(/^npm install /)
    expect(await top('qqqqzzzz')).toEqual([])
    // A filter applies to fuzzy hits too.
    const failed = await store.search({
      query: 'git stauts',
      mode: 'fuzzy',
      limit: 5,
      filter: { exit: 'fail' },
    })
    expect(failed.hits.length).toBeGreaterThan(0)
    expect(failed.hits.every((h) => h.failures === h.uses && h.last.exitCode !== 0)).toBe(true)
  })

  it('follows writes, AI links and deletes, and a reopened store rebuilds the same index', async () => {
    const [row] = await store.recordCommands([
      { command: 'terraform plan -out tf.plan', startedAt: newest + 1000, source: 'terminal' },
    ])
    await same('terraform', 'text')
    expect((await store.search({ query: 'tf.pl', mode: 'substring', limit: 5 })).hits).toHaveLength(
      1,
    )
    const ai = await store.recordAi({ request: 'apply', proposedCommand: 'terraform apply' })
    await store.updateAi({ id: ai.id, decision: 'ran' })
    const [applied] = await store.recordCommands([
      { command: 'terraform apply', startedAt: newest + 2000, source: 'terminal' },
    ])
    expect(applied!.aiRequestId).toBe(ai.id)
    await same('terraform', 'text', { origin: 'ai' })
    expect(
      (await store.search({ query: 'terraform', mode: 'text', limit: 5, filter: { origin: 'ai' } }))
        .hits[0]?.command,
    ).toBe('terraform apply')

    await store.delete({ ids: [row!.id] })
    expect((await store.search({ query: 'tf.pl', mode: 'substring', limit: 5 })).hits).toEqual([])
    await store.delete({ filter: { since: newest - 10 * 86_400_000 } })
    await same('git', 'text')
    await same('', 'text', { exit: 'fail' })

    const before = await Promise.all(
      ['git', 'docker', 'ls'].map((q) => store.search({ query: q, mode: 'text', limit: 30 })),
    )
    const dir = join(root, 'history')
    await store.close()
    store = await HistoryStore.open({
      dir,
      redact: redactForHistory,
      embedder: new HashedTrigramEmbedder(32),
    })
    const after = await Promise.all(
      ['git', 'docker', 'ls'].map((q) => store.search({ query: q, mode: 'text', limit: 30 })),
    )
    const noScore = (r: HistorySearchResult) => summary(r).map(({ score: _, ...rest }) => rest)
    expect(after.map(noScore)).toEqual(before.map(noScore))
    expect((await store.search({ query: 'a', mode: 'semantic', limit: 1 })).pendingEmbeddings).toBe(
      0,
    )
  }, 60_000)
})

describe('index consistency', () => {
  it('concurrent writes and deletes leave the index as a fresh build from the database', async () => {
    const t = newest + 10_000
    const cmd = (command: string, i: number) => ({
      command,
      startedAt: t + i,
      exitCode: i % 2,
      cwd: `/srv/app-${i % 3}`,
      source: 'terminal',
    })
    await Promise.all([
      ...Array.from({ length: 8 }, (_, i) => store.recordCommands([cmd(`zdeploy app-${i}`, i)])),
      store.delete({ filter: { cwd: '/srv/app-1' } }),
      ...Array.from({ length: 8 }, (_, i) =>
        store.recordCommands([cmd(`zdeploy app-${i}`, 100 + i), cmd(`rollback ${i}`, 200 + i)]),
      ),
      store.delete({ filter: { since: t + 205, until: t + 207 } }),
    ])
    const fresh = await loadSearchIndex(store.db)
    const now = Date.now()
    // Writes are applied in call order: the first delete removed app-1's first deploys only.
    const deploys = fresh.search({ query: 'zdeploy app', mode: 'text', limit: 50 }, null, now)
    expect(deploys.hits).toHaveLength(8)
    expect(deploys.hits.find((h) => h.command === 'zdeploy app-1')?.uses).toBe(1)
    for (const [query, mode, filter] of [
      ['zdeploy', 'text', undefined],
      ['rollback', 'text', undefined],
      ['app-', 'substring', { exit: 'fail' }],
      ['', 'text', { cwd: '/srv' }],
      ['git', 'text', undefined],
    ] as const) {
      const params = { query, mode, filter, limit: 50 }
      const a = store.search(params).then((r) => r.hits)
      expect(await a, `${mode} "${query}"`).toEqual(
        fresh.search(params, null, now).hits.map((h) => ({ ...h, score: expect.any(Number) })),
      )
    }
  })
})

describe('fuzzy word matching', () => {
  it('trigram similarity as pg_trgm computes it', () => {
    // pg_trgm: similarity('word', 'words') = 0.571429 (4 common of 7 distinct trigrams).
    expect(trigramSimilarity(trigrams('word'), trigrams('words'))).toBeCloseTo(4 / 7)
    expect(trigramSimilarity(trigrams('abc'), trigrams('xyz'))).toBe(0)
  })

  it('edit distance counts a transposition as one edit and stops past the limit', () => {
    expect(editDistance('gti', 'git', 1)).toBe(1)
    expect(editDistance('isntall', 'install', 2)).toBe(1)
    expect(editDistance('kitten', 'sitting', 3)).toBe(3)
    expect(editDistance('abc', 'abcdef', 1)).toBe(2)
  })

  it('scores exact, prefix (last word only), typo and unrelated words', () => {
    const score = (q: string, w: string, last = false) =>
      wordScore(q, trigrams(q), w, trigrams(w), last)
    expect(score('git', 'git')).toBe(1)
    expect(score('chec', 'checkout', true)).toBe(0.9)
    // Not the last word: only its trigram similarity (4 of 10) counts.
    expect(score('chec', 'checkout', false)).toBeCloseTo(0.4)
    expect(score('dokcer', 'docker')).toBeGreaterThan(0.6)
    expect(score('kubctl', 'kubectl')).toBeGreaterThan(0.5)
    expect(score('zzzz', 'docker')).toBe(0)
  })
})
