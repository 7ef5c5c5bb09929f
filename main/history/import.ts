import { createHash } from 'node:crypto'
import { closeSync, openSync, readSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { resolve } from 'node:path'
import { CmdaiError } from '../../contract/errors'
import type {
  ImportFormat,
  ImportProgress,
  ImportSkip,
  ImportSummary,
} from '../../contract/history'
import type { BulkRow } from './bulk-insert'
import {
  detectFormat,
  parserFor,
  unmetafy,
  type LineParser,
  type ParsedEntry,
  type ParseEvent,
} from './import-parsers'
import { decodeUtf8, readLines } from './line-reader'
import type { HistoryStore } from './store'
import { commandProblem, int32OrNull, LIMITS, textProblem } from './validate'

export { IMPORT_FORMATS, type ImportFormat } from '../../contract/history'
export { detectFormat } from './import-parsers'

/** Rows written per transaction: big enough that per-statement costs vanish, small enough that
 * PGlite's memory stays flat and a killed import keeps most of what it wrote. */
export const BATCH_ROWS = 20_000
/** Skipped lines reported one by one (all are counted). */
const MAX_SKIPS = 1000

export interface ImportOptions {
  format?: ImportFormat
  /** Epoch ms; entries without timestamps get times spread over the hour before it. */
  now?: number
  /** Called a few times a second, and once at the end. */
  onProgress?: (progress: Omit<ImportProgress, 'id'>) => void
  signal?: AbortSignal
}

/**
 * Imports a history file. Never aborts on a bad line: each one that cannot be stored (NUL,
 * invalid UTF-8, a timestamp out of range, an absurd length, a malformed record) is skipped and
 * reported with its line number and reason. Re-importing the same file adds nothing (duplicates
 * are counted); cmdai's own JSON-lines and CSV exports come back with every field.
 */
export async function importHistory(
  store: HistoryStore,
  file: string,
  options: ImportOptions = {},
): Promise<ImportSummary> {
  const started = performance.now()
  const path = resolve(file)
  let totalBytes: number
  try {
    const st = statSync(path)
    if (!st.isFile()) throw new CmdaiError('invalid_input', `${path} is not a file`)
    totalBytes = st.size
  } catch (err) {
    if (err instanceof CmdaiError) throw err
    throw new CmdaiError('not_found', `Cannot read ${path}: ${(err as Error).message}`)
  }
  const format = options.format ?? detectFormat(path, readHead(path))
  const now = options.now ?? Date.now()
  const fileId = createHash('sha256').update(path).digest('hex').slice(0, 12)
  const own = format === 'jsonl' || format === 'csv'
  const sessionId = own ? null : `import:${format}:${fileId}`
  if (sessionId) {
    await store.ensureSession({
      id: sessionId,
      kind: 'import',
      startedAt: now,
      shell: format === 'atuin' ? null : format,
      label: `${format} import of ${path}`,
    })
  }

  const summary: ImportSummary = {
    format,
    parsed: 0,
    imported: 0,
    duplicates: 0,
    skipped: 0,
    skips: [],
    tookMs: 0,
  }
  let bytesRead = 0
  let lastReport = 0
  const report = (phase: ImportProgress['phase'], force = false) => {
    const t = performance.now()
    if (!force && t - lastReport < 200) return
    lastReport = t
    options.onProgress?.({
      path,
      bytesRead,
      totalBytes,
      imported: summary.imported,
      duplicates: summary.duplicates,
      skipped: summary.skipped,
      phase,
    })
  }
  const addSkip = (s: ImportSkip) => {
    summary.skipped++
    if (summary.skips.length < MAX_SKIPS) summary.skips.push(s)
  }

  // Plain bash/zsh files have no times: spread their lines over the hour before `now`.
  const lineCount = format === 'bash' || format === 'zsh' ? countLines(path) : 1
  const redact = memoize(store.redact)
  let batch: BulkRow[] = []
  const flush = async () => {
    if (!batch.length) return
    const rows = batch
    batch = []
    const r = await store.insertBulk(rows, { dedupeByContent: own })
    summary.imported += r.imported
    summary.duplicates += r.duplicates
    report('reading')
  }
  const accept = async (e: ParsedEntry) => {
    summary.parsed++
    const row = toRow(e, { format, fileId, sessionId, now, lineCount, redact })
    if (typeof row === 'string') return addSkip({ line: e.line, reason: row })
    batch.push(row)
    if (batch.length >= BATCH_ROWS) await flush()
  }
  const handle = async (events: ParseEvent[]) => {
    for (const ev of events) {
      if ('skip' in ev) {
        summary.parsed++
        addSkip(ev.skip)
      } else await accept(ev.entry)
    }
  }

  report('reading', true)
  try {
    if (format === 'atuin') {
      for (const e of readAtuin(path)) await accept(e)
      bytesRead = totalBytes
    } else {
      const parser: LineParser = parserFor(format)
      const lines = readLines(path, {
        maxLineBytes: LIMITS.commandChars * 4,
        onBytes: (n) => (bytesRead = n),
      })
      for (const raw of lines) {
        options.signal?.throwIfAborted()
        if (raw.tooLong) {
          summary.parsed++
          addSkip({ line: raw.lineNo, reason: `the line is ${raw.tooLong} bytes long` })
          continue
        }
        const text = decodeUtf8(format === 'zsh' ? unmetafy(raw.bytes) : raw.bytes)
        if (text === null) {
          summary.parsed++
          addSkip({ line: raw.lineNo, reason: 'the line is not valid UTF-8' })
          continue
        }
        await handle(parser.line(text, raw.lineNo))
      }
      await handle(parser.end())
    }
    await flush()
    report('finishing', true)
    await store.finishBulk()
  } catch (err) {
    // What was written stays (each batch committed); re-running the import adds the rest.
    await store.finishBulk().catch(() => {})
    options.onProgress?.({
      path,
      bytesRead,
      totalBytes,
      imported: summary.imported,
      duplicates: summary.duplicates,
      skipped: summary.skipped,
      phase: 'failed',
      error: err instanceof Error ? err.message : String(err),
    })
    throw err
  }
  summary.tookMs = Math.round(performance.now() - started)
  report('done', true)
  return summary
}

interface RowContext {
  format: ImportFormat
  fileId: string
  sessionId: string | null
  now: number
  lineCount: number
  redact: (text: string) => string
}

/** A row ready for the database, or the reason the entry cannot be stored. */
function toRow(e: ParsedEntry, ctx: RowContext): BulkRow | string {
  const own = ctx.format === 'jsonl' || ctx.format === 'csv'
  const startedAt =
    e.startedAt ??
    ctx.now - 3_600_000 + Math.floor(((e.line - 1) * 3_600_000) / Math.max(1, ctx.lineCount))
  const row: BulkRow = {
    command: ctx.redact(e.command).trim(),
    cwd: e.cwd ? ctx.redact(e.cwd) : null,
    exitCode: int32OrNull(e.exitCode),
    startedAt: Math.round(startedAt),
    durationMs: int32OrNull(e.durationMs, 0),
    shell: own ? (e.shell ?? null) : ctx.format === 'atuin' ? null : ctx.format,
    host: e.host ?? null,
    sessionId: own ? (e.session ?? null) : ctx.sessionId,
    ptyId: e.ptyId ?? null,
    source: own ? (e.source ?? ctx.format) : ctx.format,
    key:
      ctx.format === 'atuin'
        ? `atuin:${e.key}`
        : own
          ? e.key
          : `${ctx.format}:${ctx.fileId}:${e.key}`,
    ai: e.ai
      ? {
          request: ctx.redact(e.ai.request),
          proposedCommand: e.ai.proposedCommand ? ctx.redact(e.ai.proposedCommand) : null,
          decision: e.ai.decision,
          risk: e.ai.risk,
        }
      : null,
  }
  const problem =
    commandProblem(row, own ? undefined : ctx.now) ??
    (row.ai ? textProblem('AI request', row.ai.request, LIMITS.commandChars) : null) ??
    (row.ai?.proposedCommand
      ? textProblem('proposed command', row.ai.proposedCommand, LIMITS.commandChars)
      : null)
  return problem ?? row
}

function readHead(path: string): string {
  const fd = openSync(path, 'r')
  try {
    const buf = Buffer.alloc(4096)
    const n = readSync(fd, buf, 0, buf.length, 0)
    return buf.subarray(0, n).toString('latin1')
  } finally {
    closeSync(fd)
  }
}

function countLines(path: string): number {
  let n = 1
  for (const _ of readLines(path, { maxLineBytes: 0 })) n++
  return n
}

/** History repeats itself: redact each distinct text once (bounded, for huge files). */
function memoize(fn: (text: string) => string): (text: string) => string {
  const cache = new Map<string, string>()
  return (text) => {
    let out = cache.get(text)
    if (out === undefined) {
      out = fn(text)
      if (cache.size > 100_000) cache.clear()
      cache.set(text, out)
    }
    return out
  }
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
 * it (Node 22.5+, Electron), else better-sqlite3. `line` is the row's position.
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
  const ms = (v: number | bigint) => Number(BigInt(v) / 1_000_000n)
  return rows.map((r, i) => {
    const duration = Number(r.duration)
    return {
      command: String(r.command),
      startedAt: ms(r.timestamp),
      durationMs: duration >= 0 ? ms(r.duration) : null,
      exitCode: Number(r.exit),
      cwd: r.cwd && r.cwd !== 'unknown' ? String(r.cwd) : null,
      host: r.hostname ? String(r.hostname).split(':')[0]! : null,
      session: r.session ? String(r.session) : null,
      key: String(r.id),
      line: i + 1,
    }
  })
}

/** Parses history text in one go (tests, small inputs): the entries and the skipped lines. */
export function parseHistoryText(
  format: Exclude<ImportFormat, 'atuin'>,
  data: string | Buffer,
): { entries: ParsedEntry[]; skips: ImportSkip[] } {
  const parser = parserFor(format)
  const entries: ParsedEntry[] = []
  const skips: ImportSkip[] = []
  const take = (events: ParseEvent[]) => {
    for (const ev of events) {
      if ('skip' in ev) skips.push(ev.skip)
      else entries.push(ev.entry)
    }
  }
  const buf = typeof data === 'string' ? Buffer.from(data) : data
  const lines = buf.toString('latin1').split('\n')
  if (lines.at(-1) === '') lines.pop()
  let offset = 0
  lines.forEach((latin, i) => {
    const bytes = buf.subarray(offset, offset + latin.length)
    offset += latin.length + 1
    const text = decodeUtf8(format === 'zsh' ? unmetafy(bytes) : bytes)
    if (text === null) skips.push({ line: i + 1, reason: 'the line is not valid UTF-8' })
    else take(parser.line(text, i + 1))
  })
  take(parser.end())
  return { entries, skips }
}
