import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HashedTrigramEmbedder } from './embedder'
import { exportHistory } from './export'
import { redactForHistory } from './redact'
import { HistoryStore, type CommandInput } from './store'

// One real PGlite database for the whole file (initdb takes seconds).
let root: string
let store: HistoryStore
const T0 = Date.UTC(2026, 0, 1)
const DAY = 86_400_000

const base = (c: Partial<CommandInput> & { command: string }): CommandInput => ({
  cwd: '/home/u/proj',
  exitCode: 0,
  startedAt: T0,
  durationMs: 10,
  shell: 'bash',
  host: 'laptop',
  source: 'terminal',
  ...c,
})

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'cmdai-history-store-'))
  store = await HistoryStore.open({
    dir: join(root, 'history'),
    redact: redactForHistory,
    embedder: new HashedTrigramEmbedder(64),
  })
  await store.ensureSession({ id: 's1', kind: 'terminal', startedAt: T0 })
  await store.ensureSession({ id: 's2', kind: 'terminal', startedAt: T0 })
  await store.recordCommands([
    base({ command: 'git commit -m "fix parser"', startedAt: T0 + 1 * DAY, sessionId: 's1' }),
    base({ command: 'git commit -m "fix parser"', startedAt: T0 + 2 * DAY, sessionId: 's1' }),
    base({ command: 'git status', startedAt: T0 + 3 * DAY, sessionId: 's1' }),
    base({
      command: 'git status',
      startedAt: T0 + 4 * DAY,
      sessionId: 's2',
      exitCode: 128,
      cwd: '/tmp',
    }),
    base({
      command: 'docker compose up -d',
      startedAt: T0 + 5 * DAY,
      cwd: '/home/u/proj/api',
      shell: 'zsh',
      sessionId: 's2',
    }),
    base({
      command: 'kubectl get pods -n payments',
      startedAt: T0 + 6 * DAY,
      exitCode: 1,
      host: 'desktop',
    }),
    base({ command: 'npm install zod', startedAt: T0 + 7 * DAY, cwd: '/home/u/projector' }),
    base({ command: 'ls node_modules/.bin', startedAt: T0 + 8 * DAY, shell: 'fish' }),
  ])
  await store.embedAll()
}, 60_000)

afterAll(async () => {
  await store?.close()
  rmSync(root, { recursive: true, force: true })
})

const search = (query: string, mode: 'text' | 'substring' | 'fuzzy' | 'semantic', filter = {}) =>
  store.search({ query, mode, limit: 20, filter }).then((r) => r.hits.map((h) => h.command))

describe('search modes', () => {
  it('full text: every word, last one as a prefix, deduplicated', async () => {
    expect(await search('git comm', 'text')).toEqual(['git commit -m "fix parser"'])
    expect(await search('pods payments', 'text')).toEqual(['kubectl get pods -n payments'])
    expect(await search('modules', 'text')).toEqual(['ls node_modules/.bin'])
    expect(await search('nothinglikethis', 'text')).toEqual([])
    const git = await store.search({ query: 'git', mode: 'text', limit: 20 })
    expect(git.hits.map((h) => h.command).sort()).toEqual([
      'git commit -m "fix parser"',
      'git status',
    ])
    const commit = git.hits.find((h) => h.command.startsWith('git commit'))!
    expect(commit.uses).toBe(2)
    expect(commit.last.startedAt).toBe(T0 + 2 * DAY)
  })

  it('substring: anywhere, case-insensitive, LIKE characters literal', async () => {
    expect(await search('MODULES/.b', 'substring')).toEqual(['ls node_modules/.bin'])
    expect(await search('it sta', 'substring')).toEqual(['git status'])
    expect(await search('%', 'substring')).toEqual([])
    expect(await search('_', 'substring')).toEqual(['ls node_modules/.bin'])
  })

  it('fuzzy: tolerates typos', async () => {
    expect((await search('kubectl get pds', 'fuzzy'))[0]).toBe('kubectl get pods -n payments')
    expect((await search('dokcer compose', 'fuzzy'))[0]).toBe('docker compose up -d')
    expect(await search('zzzzqqq', 'fuzzy')).toEqual([])
  })

  it('semantic: nearest embeddings (hashed-trigram embedder here)', async () => {
    const r = await store.search({ query: 'install zod package', mode: 'semantic', limit: 3 })
    expect(r.hits[0]?.command).toBe('npm install zod')
    expect(r.pendingEmbeddings).toBe(0)
  })

  it('ranks recent, frequent and successful first', async () => {
    // Same match quality: the successful, more recent commit outranks the failing status.
    const hits = await search('git', 'text')
    expect(hits[0]).toBe('git commit -m "fix parser"')
  })
})

describe('filters', () => {
  it('cwd and below (not a sibling prefix)', async () => {
    const hits = await search('', 'text', { cwd: '/home/u/proj' })
    expect(hits).toContain('docker compose up -d')
    expect(hits).not.toContain('npm install zod') // /home/u/projector
    expect(await search('npm', 'text', { cwd: '/home/u/projector/' })).toEqual(['npm install zod'])
  })

  it('exit status, session, host, shell, time range, origin', async () => {
    expect(await search('git', 'text', { exit: 'fail' })).toEqual(['git status'])
    expect(await search('git status', 'text', { exit: 128 })).toEqual(['git status'])
    expect((await search('git', 'text', { exit: 'ok' })).sort()).toEqual([
      'git commit -m "fix parser"',
      'git status',
    ])
    expect(await search('git', 'text', { sessionId: 's2' })).toEqual(['git status'])
    expect(await search('', 'text', { host: 'desktop' })).toEqual(['kubectl get pods -n payments'])
    expect(await search('', 'text', { shell: 'zsh' })).toEqual(['docker compose up -d'])
    expect(await search('git', 'text', { since: T0 + 2 * DAY, until: T0 + 3 * DAY })).toEqual([
      'git commit -m "fix parser"',
    ])
    expect(await search('', 'text', { origin: 'ai' })).toEqual([])
    // A filtered hit counts only the runs inside the filter.
    const r = await store.search({
      query: 'git status',
      mode: 'text',
      limit: 5,
      filter: { exit: 'ok' },
    })
    expect(r.hits[0]?.uses).toBe(1)
    expect(r.hits[0]?.last.exitCode).toBe(0)
  })
})

describe('AI requests, redaction, stats, export, delete', () => {
  it('links an AI request to the command that ran and filters by origin', async () => {
    const ai = await store.recordAi({
      request: 'show disk usage of my home',
      proposedCommand: 'du -sh ~',
      risk: 'safe',
      reasons: [],
      model: 'tiny',
      backend: 'cpu',
      ptyId: 'p1',
    })
    await store.updateAi({ id: ai.id, decision: 'edited', finalCommand: 'du -sh ~/src' })
    const [row] = await store.recordCommands([
      base({ command: 'du -sh ~/src', startedAt: Date.now(), ptyId: 'p1' }),
    ])
    expect(row!.aiRequestId).toBe(ai.id)
    expect((await store.getAi(ai.id))!.commandId).toBe(row!.id)
    expect(await search('', 'text', { origin: 'ai' })).toEqual(['du -sh ~/src'])
    expect(await search('du', 'text', { origin: 'typed' })).toEqual([])
    const cancelled = await store.recordAi({
      request: 'wipe it',
      proposedCommand: 'rm -rf /',
      risk: 'critical',
      decision: 'blocked',
    })
    expect(cancelled.decision).toBe('blocked')
  })

  it('redacts secrets before writing commands and AI requests', async () => {
    const [row] = await store.recordCommands([
      base({
        command: 'curl -H "Authorization: Bearer abcdef0123456789xyz" https://x',
        startedAt: T0,
      }),
    ])
    expect(row!.command).not.toContain('abcdef0123456789xyz')
    const ai = await store.recordAi({
      request: 'use AWS key AKIAABCDEFGHIJKLMNOP',
      proposedCommand: 'export API_KEY=s3cr3tvalue',
    })
    expect(ai.request).not.toContain('AKIAABCDEFGHIJKLMNOP')
    expect(ai.proposedCommand).toMatch(/^export API_KEY=\[REDACTED/)
    expect(ai.proposedCommand).not.toContain('s3cr3tvalue')
    const raw = await store.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM command_texts WHERE text LIKE '%abcdef0123456789xyz%'`,
    )
    expect(raw.rows[0]!.n).toBe(0)
  })

  it('computes stats', async () => {
    const s = await store.stats()
    expect(s.totalCommands).toBe(10)
    expect(s.failedCommands).toBe(2)
    expect(s.mostUsed[0]).toMatchObject({ uses: 2 })
    expect(s.ai.requests).toBe(3)
    expect(s.ai.decisions).toMatchObject({ edited: 1, blocked: 1, undecided: 1 })
    expect(s.ai.editedRate).toBe(0.5)
    expect(s.risk).toMatchObject({ safe: 1, critical: 1, unknown: 1 })
  })

  it('exports JSON lines and CSV', async () => {
    let jsonl = ''
    const n = await exportHistory(store, 'jsonl', { shell: 'bash' }, (c) => {
      jsonl += c
    })
    const lines = jsonl
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines).toHaveLength(n)
    expect(lines.every((l) => l.shell === 'bash')).toBe(true)
    expect(lines.find((l) => l.command === 'du -sh ~/src')).toMatchObject({
      ai_decision: 'edited',
      ai_proposed_command: 'du -sh ~',
    })
    let csv = ''
    await exportHistory(store, 'csv', undefined, (c) => {
      csv += c
    })
    expect(csv.split('\r\n')[0]).toMatch(/^id,command,cwd,exit_code,started_at/)
    expect(csv).toContain('"git commit -m ""fix parser"""')
  })

  it('deletes an entry and a time range with derived data', async () => {
    const docker = (await store.search({ query: 'docker', mode: 'text', limit: 1 })).hits[0]!
    const r = await store.delete({ ids: [docker.last.id] })
    expect(r.deletedCommands).toBe(1)
    expect(await search('docker', 'text')).toEqual([])
    expect(await search('dokcer compose', 'fuzzy')).not.toContain('docker compose up -d')
    const orphans = await store.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM command_texts WHERE text LIKE 'docker%'`,
    )
    expect(orphans.rows[0]!.n).toBe(0)
    // A time range: both commits, and the first git status; the later git status stays.
    const range = await store.delete({ filter: { since: T0, until: T0 + 3 * DAY + 1 } })
    expect(range.deletedCommands).toBe(4) // two commits, one git status, the redacted curl
    expect(await search('commit', 'text')).toEqual([])
    const status = await store.search({ query: 'git status', mode: 'text', limit: 1 })
    expect(status.hits[0]?.uses).toBe(1)
    const embeddings = await store.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM text_embeddings e
       WHERE NOT EXISTS (SELECT 1 FROM command_texts t WHERE t.id = e.text_id)`,
    )
    expect(embeddings.rows[0]!.n).toBe(0)
  })
})
