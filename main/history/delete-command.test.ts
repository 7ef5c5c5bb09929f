import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HashedTrigramEmbedder } from './embedder'
import { redactForHistory } from './redact'
import { HistoryStore, type CommandInput } from './store'

// The history panel deletes one entry of its list: every run of that exact command text.
let root: string
let store: HistoryStore
const T0 = Date.UTC(2026, 0, 1)

const run = (command: string, minute: number, extra: Partial<CommandInput> = {}): CommandInput => ({
  command,
  cwd: '/home/u/proj',
  exitCode: 0,
  startedAt: T0 + minute * 60_000,
  durationMs: 10,
  shell: 'bash',
  host: 'laptop',
  source: 'terminal',
  ...extra,
})

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'cmdai-history-delete-'))
  store = await HistoryStore.open({
    dir: join(root, 'history'),
    redact: redactForHistory,
    embedder: new HashedTrigramEmbedder(64),
  })
  await store.recordCommands([
    run('git status', 1),
    run('git status', 2, { cwd: '/tmp' }),
    run('git status --short', 3),
    run('echo "git status"', 4),
    run('git status', 5, { exitCode: 1 }),
  ])
})
afterAll(async () => {
  await store?.close()
  rmSync(root, { recursive: true, force: true })
})

describe('the command filter', () => {
  it('finds only runs of exactly that text, in the index and in SQL', async () => {
    for (const search of [store.search.bind(store), store.searchSql.bind(store)]) {
      const result = await search({
        query: 'git status',
        mode: 'substring',
        limit: 50,
        filter: { command: 'git status' },
      })
      expect(result.hits.map((h) => [h.command, h.uses])).toEqual([['git status', 3]])
    }
    const none = await store.search({
      query: '',
      mode: 'text',
      limit: 50,
      filter: { command: 'never ran' },
    })
    expect(none.hits).toEqual([])
  })

  it('deletes one entry (all its runs) and nothing that merely contains it', async () => {
    expect(await store.delete({ filter: { command: 'git status' } })).toEqual({
      deletedCommands: 3,
      deletedAiRequests: 0,
    })
    const left = await store.search({ query: 'git status', mode: 'substring', limit: 50 })
    expect(left.hits.map((h) => h.command).sort()).toEqual([
      'echo "git status"',
      'git status --short',
    ])
  })
})
