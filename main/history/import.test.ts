import Database from 'better-sqlite3'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportHistory } from './export'
import { importHistory, parseHistoryText, readAtuin } from './import'
import type { HistoryStore } from './store'
import { createTemplate } from './test-fixtures/template-db'

let t: Awaited<ReturnType<typeof createTemplate>>
const file = (name: string, content: string | Buffer) => {
  const path = join(t.root, name)
  writeFileSync(path, content)
  return path
}

beforeAll(async () => {
  t = await createTemplate('cmdai-history-import-')
}, 120_000)
afterAll(() => t?.remove())

describe('parsers', () => {
  it('bash, plain and with HISTTIMEFORMAT stamps', () => {
    expect(
      parseHistoryText('bash', 'ls\n\n#1700000000\ngit status\ncd /tmp\n').entries,
    ).toMatchObject([
      { command: 'ls', startedAt: null, line: 1 },
      { command: 'git status', startedAt: 1_700_000_000_000, line: 4 },
      { command: 'cd /tmp', startedAt: null, line: 5 },
    ])
  })

  it('zsh, plain and extended, multi-line and metafied', () => {
    const meta = Buffer.concat([
      Buffer.from(': 1700000100:0;echo '),
      Buffer.from([0xc3, 0x83, 0xa9 ^ 32]), // "é" = c3 a9; a9 is metafied
      Buffer.from('\n'),
    ])
    expect(parseHistoryText('zsh', meta).entries[0]!.command).toBe('echo é')
    expect(
      parseHistoryText(
        'zsh',
        ': 1700000000:5;make build\n: 1700000010:0;for f in *; do\\\n  echo $f\\\ndone\nls -la\n',
      ).entries,
    ).toMatchObject([
      { command: 'make build', startedAt: 1_700_000_000_000, durationMs: 5000, line: 1 },
      { command: 'for f in *; do\n  echo $f\ndone', startedAt: 1_700_000_010_000, line: 2 },
      { command: 'ls -la', startedAt: null, line: 5 },
    ])
  })

  it('fish, with escapes and paths', () => {
    const text =
      '- cmd: git log\n  when: 1700000000\n- cmd: echo a\\\\nb\\nc\n  when: 1700000005\n  paths:\n    - a\n'
    expect(parseHistoryText('fish', text).entries).toMatchObject([
      { command: 'git log', startedAt: 1_700_000_000_000 },
      { command: 'echo a\\nb\nc', startedAt: 1_700_000_005_000 },
    ])
  })

  it('skips what cannot be a time or text, naming the line, and keeps the rest', () => {
    const zsh = parseHistoryText(
      'zsh',
      Buffer.concat([
        Buffer.from(': 1700000000:0;ok one\n: 99999999999999:0;far future\n'),
        Buffer.from([0xff, 0xfe, 0x0a]),
        Buffer.from(': 1700000001:0;ok two\n'),
      ]),
    )
    expect(zsh.entries.map((e) => e.command)).toEqual(['ok one', 'ok two'])
    expect(zsh.skips).toEqual([
      { line: 2, reason: expect.stringMatching(/after the year 9999/) as string },
      { line: 3, reason: 'the line is not valid UTF-8' },
    ])
    const bash = parseHistoryText('bash', '#99999999999999999\nls\n- cmd: x\n')
    expect(bash.skips).toMatchObject([{ line: 1 }])
    expect(bash.entries.map((e) => [e.command, e.startedAt])).toEqual([
      ['ls', null],
      ['- cmd: x', null],
    ])
    const fish = parseHistoryText('fish', '- cmd: a\n  when: 999999999999999999\n- cmd: b\n')
    expect(fish.skips).toMatchObject([{ line: 1 }])
    expect(fish.entries.map((e) => e.command)).toEqual(['b'])
  })

  it('bounds a zsh command that never stops continuing (time and memory)', () => {
    const started = performance.now()
    const text = 'x\\\n'.repeat(200_000) + 'end\n: 1700000000:0;after\n'
    const { entries, skips } = parseHistoryText('zsh', text)
    expect(skips).toEqual([{ line: 1, reason: expect.stringMatching(/over 65536 characters/) }])
    expect(entries.map((e) => e.command)).toEqual(['after'])
    expect(performance.now() - started).toBeLessThan(5000)
  })

  it('reads RFC 4180 CSV: quotes, commas, line breaks, CRLF; reports a broken record', () => {
    const csv =
      'command,started_at,cwd\r\n' +
      '"echo ""a, b""",2026-01-01T00:00:00.000Z,/x\r\n' +
      '"for f in *; do\n  echo $f\ndone",2026-01-01T00:00:01.000Z,\r\n' +
      'only,one\r\n' +
      '"never closed,2026-01-01T00:00:02.000Z,\r\n'
    const { entries, skips } = parseHistoryText('csv', csv)
    expect(entries.map((e) => [e.command, e.cwd, e.line])).toEqual([
      ['echo "a, b"', '/x', 2],
      ['for f in *; do\n  echo $f\ndone', null, 3],
    ])
    expect(skips).toEqual([
      { line: 6, reason: 'has 2 fields, the header 3' },
      { line: 7, reason: 'the file ends inside a quoted field' },
    ])
  })

  it('reads JSON lines, skipping what is not a record', () => {
    const { entries, skips } = parseHistoryText(
      'jsonl',
      [
        '{"command":"ls","started_at":"2026-01-01T00:00:00.000Z","exit_code":0}',
        '{"command":',
        '{"command":5,"started_at":"2026-01-01T00:00:00.000Z"}',
        '{"command":"x","started_at":null}',
        '['.repeat(1000) + ']'.repeat(1000),
      ].join('\n'),
    )
    expect(entries.map((e) => [e.command, e.exitCode])).toEqual([['ls', 0]])
    expect(skips.map((s) => [s.line, s.reason.split(' (')[0]])).toEqual([
      [2, 'not valid JSON'],
      [3, 'not a cmdai export record'],
      [4, 'the record has no start time'],
      [5, 'not a cmdai export record'],
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
    's1',
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
    's1',
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
    's1',
    'box:me',
    1n,
  )
  ins.run(
    'a4',
    9_000_000_000_000_000_000n,
    1_000_000n,
    0,
    'far future',
    '/src/x',
    's1',
    'box:me',
    null,
  )
  db.close()
}

describe('importing into the store', () => {
  let store: HistoryStore
  beforeAll(async () => {
    store = await t.open(t.fresh('main'))
  }, 60_000)
  afterAll(async () => {
    await store?.close()
  })

  it('reads an Atuin database (ns timestamps, exit codes, deleted rows skipped)', () => {
    const path = join(t.root, 'atuin.db')
    makeAtuin(path)
    expect(readAtuin(path)).toMatchObject([
      { command: 'cargo build', startedAt: 1_700_000_000_000, durationMs: 1500, exitCode: 0 },
      { command: 'cargo test', exitCode: 101, durationMs: 2 },
      { command: 'far future' },
    ])
  })

  it('imports each format once (re-import: duplicates), redacting secrets', async () => {
    const bash = file('.bash_history', 'ls\nexport AWS_SECRET_ACCESS_KEY=abc123verysecret\n')
    const zsh = file('.zsh_history', ': 1700000000:2;make build\n')
    const fish = file('fish_history', '- cmd: fish_config\n  when: 1700000000\n')
    const atuin = join(t.root, 'atuin2.db')
    makeAtuin(atuin)
    expect(await importHistory(store, bash)).toMatchObject({ format: 'bash', imported: 2 })
    expect(await importHistory(store, zsh)).toMatchObject({ format: 'zsh', imported: 1 })
    expect(await importHistory(store, fish)).toMatchObject({ format: 'fish', imported: 1 })
    expect(await importHistory(store, atuin)).toMatchObject({
      format: 'atuin',
      imported: 2,
      skipped: 1,
      skips: [{ line: 3, reason: expect.stringMatching(/2255-.* is in the future/) }],
    })
    expect(await importHistory(store, zsh)).toMatchObject({ imported: 0, duplicates: 1 })
    expect(await importHistory(store, atuin, { format: 'atuin' })).toMatchObject({
      imported: 0,
      duplicates: 2,
    })
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
    expect((await store.stats()).totalCommands).toBe(6)
    // Each text's counters match its rows (the SQL search ranks by them).
    const agg = await store.db.query<{ same: boolean }>(
      `SELECT (SELECT sum(uses) FROM command_texts) = (SELECT count(*) FROM commands) AS same`,
    )
    expect(agg.rows[0]!.same).toBe(true)
    const sql = await store.searchSql({ query: 'cargo', mode: 'text', limit: 5 })
    expect(sql.hits.map((h) => [h.command, h.uses]).sort()).toEqual([
      ['cargo build', 1],
      ['cargo test', 1],
    ])
  })

  it('never aborts: NUL, invalid UTF-8, absurd lengths and bad times are skipped by line', async () => {
    const lines = [
      Buffer.from(': 1700000000:0;before\n'),
      Buffer.from(': 1700000001:0;echo a\0b\n'),
      Buffer.from([
        0x3a, 0x20, 0x31, 0x37, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x32, 0x3a, 0x30, 0x3b,
        0xc3, 0x28, 0x0a,
      ]),
      Buffer.from(`: 1700000003:0;echo ${'y'.repeat(70_000)}\n`),
      Buffer.from(': 99999999999:0;too far\n'),
      Buffer.from(': 1700000004:0;after\n'),
    ]
    // 1 MB on one line with no newline at all, then EOF.
    const huge = Buffer.alloc(1_000_000, 0x61)
    const path = file('hostile.zsh_history', Buffer.concat([...lines, huge]))
    const started = performance.now()
    const r = await importHistory(store, path, { format: 'zsh' })
    expect(performance.now() - started).toBeLessThan(30_000)
    expect(r).toMatchObject({ parsed: 7, imported: 2, duplicates: 0, skipped: 5 })
    expect(r.skips.map((s) => s.line)).toEqual([2, 3, 4, 5, 7])
    expect(r.skips.map((s) => s.reason)).toEqual([
      'the command contains a NUL byte',
      'the line is not valid UTF-8',
      'the command is over 65536 characters long',
      expect.stringMatching(/in the future/),
      'the line is 1000000 bytes long',
    ])
    const found = await store.search({ query: 'before', mode: 'text', limit: 5 })
    expect(found.hits.map((h) => h.command)).toEqual(['before'])
  })

  it('reports progress with bytes and counts, and ends with done', async () => {
    const path = file('progress.zsh', ': 1700000000:0;p1\n: 1700000001:0;p2\n')
    const seen: string[] = []
    await importHistory(store, path, { onProgress: (p) => seen.push(`${p.phase}:${p.bytesRead}`) })
    expect(seen[0]).toBe('reading:0')
    expect(seen.at(-1)).toBe(`done:${Buffer.byteLength(': 1700000000:0;p1\n: 1700000001:0;p2\n')}`)
    expect(seen).toContain(
      `finishing:${Buffer.byteLength(': 1700000000:0;p1\n: 1700000001:0;p2\n')}`,
    )
  })

  it('refuses a folder or a missing file with a clear error', async () => {
    await expect(importHistory(store, t.root)).rejects.toThrow(/is not a file/)
    await expect(importHistory(store, join(t.root, 'nope'))).rejects.toThrow(/Cannot read/)
  })
})

describe('round trip of cmdai’s own exports', () => {
  const T0 = Date.UTC(2026, 0, 1)
  const tricky = [
    'echo "a, b" \'c\'',
    'for f in *; do\n  echo "$f"\ndone',
    'printf "tab\\there" | grep -c ","',
    'echo ünïcødé 漢字 🚀',
    'echo "line1\r\nline2"',
    'git commit -m "quote "" inside"',
  ]

  async function seed(store: HistoryStore) {
    await store.ensureSession({ id: 'run1:pty1', kind: 'terminal', startedAt: T0 })
    await store.recordCommands(
      tricky.map((command, i) => ({
        command,
        cwd: i % 2 ? `/home/u/dir, with "quotes" ${i}` : null,
        exitCode: i === 3 ? null : i,
        startedAt: T0 + i * 1000 + 7,
        durationMs: i === 2 ? null : i * 10,
        shell: 'zsh',
        host: 'laptop',
        sessionId: 'run1:pty1',
        ptyId: 'pty1',
        source: 'terminal',
      })),
    )
    const ai = await store.recordAi({
      request: 'list files, sorted',
      proposedCommand: 'ls -la',
      risk: 'safe',
      decision: 'edited',
      finalCommand: 'ls -lah',
      ptyId: 'pty2',
    })
    await store.recordCommands([
      {
        command: 'ls -lah',
        startedAt: ai.createdAt + 5,
        exitCode: 0,
        ptyId: 'pty2',
        source: 'terminal',
      },
    ])
  }

  async function exportAll(store: HistoryStore, format: 'jsonl' | 'csv') {
    let out = ''
    await exportHistory(store, format, undefined, (c) => {
      out += c
    })
    return out
  }

  /** Every field but the ids, which the importing database assigns. */
  function comparable(jsonl: string) {
    return jsonl
      .trim()
      .split('\n')
      .map((l) => {
        const { id: _id, ai_request_id: aiId, ...rest } = JSON.parse(l) as Record<string, unknown>
        return { ...rest, has_ai: aiId !== null }
      })
  }

  for (const format of ['jsonl', 'csv'] as const) {
    it(`${format}: export, import into an empty history, export again: the same records`, async () => {
      const source = await t.open(t.fresh(`rt-src-${format}`))
      const target = await t.open(t.fresh(`rt-dst-${format}`))
      try {
        await seed(source)
        const first = await exportAll(source, format)
        const path = file(`export.${format}`, first)
        const r = await importHistory(target, path)
        expect(r).toMatchObject({ format, imported: tricky.length + 1, skipped: 0, duplicates: 0 })
        expect(comparable(await exportAll(target, 'jsonl'))).toEqual(
          comparable(await exportAll(source, 'jsonl')),
        )
        // Importing it again, or into the database it came from, adds nothing.
        expect(await importHistory(target, path)).toMatchObject({ imported: 0, duplicates: 7 })
        expect(await importHistory(source, path)).toMatchObject({ imported: 0, duplicates: 7 })
      } finally {
        await source.close()
        await target.close()
      }
    }, 120_000)
  }
})
