import Database from 'better-sqlite3'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { importHistory, parseBash, parseFish, parseZsh, readAtuin } from './import'
import { redactForHistory } from './redact'
import { HistoryStore } from './store'

const root = mkdtempSync(join(tmpdir(), 'cmdai-history-import-'))
const file = (name: string, content: string | Buffer) => {
  const path = join(root, name)
  writeFileSync(path, content)
  return path
}

describe('parsers', () => {
  it('bash, plain and with HISTTIMEFORMAT stamps', () => {
    expect(parseBash('ls\n\n#1700000000\ngit status\ncd /tmp\n')).toMatchObject([
      { command: 'ls', startedAt: null },
      { command: 'git status', startedAt: 1_700_000_000_000 },
      { command: 'cd /tmp', startedAt: null },
    ])
  })

  it('zsh, plain and extended, multi-line and metafied', () => {
    const meta = Buffer.concat([
      Buffer.from(': 1700000100:0;echo '),
      Buffer.from([0xc3, 0x83, 0xa9 ^ 32]), // "é" = c3 a9; a9 is metafied
      Buffer.from('\n'),
    ])
    expect(parseZsh(meta)[0]!.command).toBe('echo é')
    expect(
      parseZsh(
        ': 1700000000:5;make build\n: 1700000010:0;for f in *; do\\\n  echo $f\\\ndone\nls -la\n',
      ),
    ).toMatchObject([
      { command: 'make build', startedAt: 1_700_000_000_000, durationMs: 5000 },
      { command: 'for f in *; do\n  echo $f\ndone', startedAt: 1_700_000_010_000 },
      { command: 'ls -la', startedAt: null },
    ])
  })

  it('fish, with escapes and paths', () => {
    const text =
      '- cmd: git log\n  when: 1700000000\n- cmd: echo a\\\\nb\\nc\n  when: 1700000005\n  paths:\n    - a\n'
    expect(parseFish(text)).toMatchObject([
      { command: 'git log', startedAt: 1_700_000_000_000 },
      { command: 'echo a\\nb\nc', startedAt: 1_700_000_005_000 },
    ])
  })
})

function makeAtuin(path: string): void {
  const db = new Database(path)
  db.exec(`CREATE TABLE history (id TEXT PRIMARY KEY, timestamp INTEGER NOT NULL,
    duration INTEGER NOT NULL, exit INTEGER NOT NULL, command TEXT NOT NULL, cwd TEXT NOT NULL,
    session TEXT NOT NULL, hostname TEXT NOT NULL, deleted_at INTEGER)`)
  const ins = db.prepare('INSERT INTO history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
  ins.run(
    'a1',
    1_700_000_000_000_000_000n,
    1_500_000_000n,
    0,
    'cargo build',
    '/src/x',
    'sess1',
    'box:me',
    null,
  )
  ins.run(
    'a2',
    1_700_000_060_000_000_000n,
    2_000_000n,
    101,
    'cargo test',
    '/src/x',
    'sess1',
    'box:me',
    null,
  )
  ins.run(
    'a3',
    1_700_000_120_000_000_000n,
    1_000_000n,
    0,
    'rm secret.txt',
    '/src/x',
    'sess1',
    'box:me',
    1_700_000_200_000_000_000n,
  )
  db.close()
}

describe('importing into the store', () => {
  let store: HistoryStore
  beforeAll(async () => {
    store = await HistoryStore.open({ dir: join(root, 'history'), redact: redactForHistory })
  }, 60_000)
  afterAll(async () => {
    await store?.close()
    rmSync(root, { recursive: true, force: true })
  })

  it('reads an Atuin database (ns timestamps, exit codes, deleted rows skipped)', () => {
    const path = join(root, 'atuin.db')
    makeAtuin(path)
    expect(readAtuin(path)).toMatchObject([
      {
        command: 'cargo build',
        startedAt: 1_700_000_000_000,
        durationMs: 1500,
        exitCode: 0,
        cwd: '/src/x',
        host: 'box',
      },
      { command: 'cargo test', exitCode: 101, durationMs: 2 },
    ])
  })

  it('imports each format once (re-import adds nothing), redacting secrets', async () => {
    const bash = file('.bash_history', 'ls\nexport AWS_SECRET_ACCESS_KEY=abc123verysecret\n')
    const zsh = file('.zsh_history', ': 1700000000:2;make build\n')
    const fish = file('fish_history', '- cmd: fish_config\n  when: 1700000000\n')
    const atuin = join(root, 'atuin.db')
    expect(await importHistory(store, bash)).toMatchObject({ format: 'bash', imported: 2 })
    expect(await importHistory(store, zsh)).toMatchObject({ format: 'zsh', imported: 1 })
    expect(await importHistory(store, fish)).toMatchObject({ format: 'fish', imported: 1 })
    expect(await importHistory(store, atuin)).toMatchObject({ format: 'atuin', imported: 2 })
    expect(await importHistory(store, zsh)).toMatchObject({ imported: 0, skipped: 1 })
    expect(await importHistory(store, atuin, { format: 'atuin' })).toMatchObject({ imported: 0 })
    const hits = await store.search({
      query: 'cargo',
      mode: 'text',
      limit: 5,
      filter: { exit: 'fail' },
    })
    expect(hits.hits.map((h) => [h.command, h.last.exitCode, h.last.source])).toEqual([
      ['cargo test', 101, 'atuin'],
    ])
    const secret = await store.search({ query: 'AWS_SECRET', mode: 'substring', limit: 5 })
    expect(secret.hits[0]?.command).toMatch(/^export AWS_SECRET_ACCESS_KEY=\[REDACTED/)
    expect(secret.hits[0]?.command).not.toContain('abc123verysecret')
    expect((await store.stats()).totalCommands).toBe(6)
  })
})
