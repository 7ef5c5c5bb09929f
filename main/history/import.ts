import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { basename, resolve } from 'node:path'
import { CmdaiError } from '../../contract/errors'
import type { CommandInput, HistoryStore } from './store'

export const IMPORT_FORMATS = ['bash', 'zsh', 'fish', 'atuin'] as const
export type ImportFormat = (typeof IMPORT_FORMATS)[number]

/** A parsed history entry; `startedAt` is null when the file has no timestamps. */
export interface ParsedEntry {
  command: string
  startedAt: number | null
  durationMs?: number | null
  exitCode?: number | null
  cwd?: string | null
  host?: string | null
  session?: string | null
  /** A stable id within the file, for idempotent re-imports. */
  key: string
}

/** bash: one command per line; with HISTTIMEFORMAT set, `#<epoch seconds>` lines precede them. */
export function parseBash(text: string): ParsedEntry[] {
  const out: ParsedEntry[] = []
  let ts: number | null = null
  const lines = text.split(/\r?\n/)
  lines.forEach((line, i) => {
    const stamp = /^#(\d{9,11})$/.exec(line)
    if (stamp) {
      ts = Number(stamp[1]) * 1000
      return
    }
    if (!line.trim()) return
    out.push({ command: line, startedAt: ts, key: `l${i}` })
    ts = null
  })
  return out
}

/**
 * zsh: plain lines, or the extended format `: <start>:<elapsed>;<command>`. A line ending in a
 * backslash continues on the next line (multi-line commands). The file is "metafied": byte 0x83
 * marks that the next byte was XORed with 32.
 */
export function parseZsh(data: Buffer | string): ParsedEntry[] {
  const text = typeof data === 'string' ? data : unmetafy(data).toString('utf8')
  const out: ParsedEntry[] = []
  const lines = text.split(/\n/)
  for (let i = 0; i < lines.length; i++) {
    const start = i
    let line = lines[i]!
    while (line.endsWith('\\') && i + 1 < lines.length)
      line = `${line.slice(0, -1)}\n${lines[++i]!}`
    if (!line.trim()) continue
    const ext = /^: *(\d+):(\d+);([\s\S]*)$/.exec(line)
    if (ext) {
      if (!ext[3]!.trim()) continue
      out.push({
        command: ext[3]!,
        startedAt: Number(ext[1]) * 1000,
        durationMs: Number(ext[2]) * 1000,
        key: `l${start}`,
      })
    } else {
      out.push({ command: line, startedAt: null, key: `l${start}` })
    }
  }
  return out
}

function unmetafy(buf: Buffer): Buffer {
  if (!buf.includes(0x83)) return buf
  const out = Buffer.alloc(buf.length)
  let j = 0
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0x83 && i + 1 < buf.length) out[j++] = buf[++i]! ^ 32
    else out[j++] = buf[i]!
  }
  return out.subarray(0, j)
}

/** fish: a YAML-like list: `- cmd: <escaped>` then `  when: <epoch s>` (and `  paths:`). */
export function parseFish(text: string): ParsedEntry[] {
  const out: ParsedEntry[] = []
  let current: ParsedEntry | null = null
  const lines = text.split(/\r?\n/)
  lines.forEach((line, i) => {
    const cmd = /^- cmd: (.*)$/.exec(line)
    if (cmd) {
      current = { command: unescapeFish(cmd[1]!), startedAt: null, key: `l${i}` }
      out.push(current)
      return
    }
    const when = /^ {2}when: (\d+)/.exec(line)
    if (when && current) current.startedAt = Number(when[1]) * 1000
  })
  return out.filter((e) => e.command.trim())
}

function unescapeFish(s: string): string {
  return s.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'))
}

interface AtuinRow {
  id: string
  timestamp: number | bigint
  duration: number | bigint
  exit: number | bigint
  command: string
  cwd: string
  session: string
  hostname: string
}

/**
 * An Atuin database (`history.db`, SQLite): timestamps and durations are nanoseconds; rows with
 * `deleted_at` set were deleted in Atuin and are skipped. Uses `node:sqlite` where the runtime has
 * it (Node 22.5+, Electron), else better-sqlite3.
 */
export function readAtuin(path: string): ParsedEntry[] {
  const sql = `SELECT id, timestamp, duration, exit, command, cwd, session, hostname FROM history
               WHERE deleted_at IS NULL ORDER BY timestamp`
  let rows: AtuinRow[]
  const require = createRequire(import.meta.url)
  try {
    const { DatabaseSync } = require('node:sqlite') as {
      DatabaseSync: new (
        p: string,
        o?: object,
      ) => {
        prepare(s: string): { all(): unknown[] }
        close(): void
      }
    }
    const db = new DatabaseSync(path, { readOnly: true })
    try {
      rows = db.prepare(sql).all() as AtuinRow[]
    } finally {
      db.close()
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_UNKNOWN_BUILTIN_MODULE') throw err
    let Database: typeof import('better-sqlite3')
    try {
      Database = require('better-sqlite3') as typeof import('better-sqlite3')
    } catch {
      throw new CmdaiError(
        'unavailable',
        'Importing an Atuin database needs Node 22.5+ (node:sqlite)',
      )
    }
    const db = new Database(path, { readonly: true, fileMustExist: true })
    try {
      rows = db.prepare(sql).all() as AtuinRow[]
    } finally {
      db.close()
    }
  }
  return rows.map((r) => {
    const ns = (v: number | bigint) => Number(BigInt(v) / 1_000_000n)
    const duration = Number(r.duration)
    return {
      command: r.command,
      startedAt: ns(r.timestamp),
      durationMs: duration >= 0 ? ns(r.duration) : null,
      exitCode: Number(r.exit),
      cwd: r.cwd && r.cwd !== 'unknown' ? r.cwd : null,
      host: r.hostname ? r.hostname.split(':')[0]! : null,
      session: r.session,
      key: r.id,
    }
  })
}

export function detectFormat(path: string, head: string): ImportFormat {
  const name = basename(path).toLowerCase()
  if (head.startsWith('SQLite format 3')) return 'atuin'
  if (name.includes('fish') || /^- cmd: /m.test(head)) return 'fish'
  if (name.includes('zsh') || /^: \d+:\d+;/m.test(head)) return 'zsh'
  return 'bash'
}

export interface ImportResult {
  format: ImportFormat
  parsed: number
  imported: number
  skipped: number
}

/**
 * Imports a history file. Entries without timestamps (plain bash/zsh) get synthetic times spread
 * over the hour before `now`, keeping their order. Re-importing the same file adds nothing.
 */
export async function importHistory(
  store: HistoryStore,
  file: string,
  options: { format?: ImportFormat; now?: number } = {},
): Promise<ImportResult> {
  const path = resolve(file)
  const data = readFileSync(path)
  const format = options.format ?? detectFormat(path, data.subarray(0, 4096).toString('latin1'))
  const entries =
    format === 'bash'
      ? parseBash(data.toString('utf8'))
      : format === 'zsh'
        ? parseZsh(data)
        : format === 'fish'
          ? parseFish(data.toString('utf8'))
          : readAtuin(path)
  const fileId = createHash('sha256').update(path).digest('hex').slice(0, 12)
  const now = options.now ?? Date.now()
  const sessionId = `import:${format}:${fileId}`
  await store.ensureSession({
    id: sessionId,
    kind: 'import',
    startedAt: now,
    shell: format === 'atuin' ? null : format,
    label: `${format} import of ${path}`,
  })
  const inputs: CommandInput[] = entries.map((e, i) => ({
    command: e.command,
    cwd: e.cwd ?? null,
    exitCode: e.exitCode ?? null,
    startedAt: e.startedAt ?? now - 3_600_000 + Math.floor((i * 3_600_000) / entries.length),
    durationMs: e.durationMs ?? null,
    shell: format === 'atuin' ? null : format,
    host: e.host ?? undefined,
    sessionId,
    source: format,
    importKey: format === 'atuin' ? `atuin:${e.key}` : `${format}:${fileId}:${e.key}`,
  }))
  let imported = 0
  for (let i = 0; i < inputs.length; i += 1000) {
    imported += (await store.recordCommands(inputs.slice(i, i + 1000))).length
  }
  return { format, parsed: entries.length, imported, skipped: entries.length - imported }
}
