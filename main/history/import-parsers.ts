import { basename } from 'node:path'
import { z } from 'zod'
import { AI_DECISIONS, type ImportFormat } from '../../contract/history'
import { EXPORT_COLUMNS } from './export'
import { LIMITS, timeProblem } from './validate'

/** A parsed history entry; `startedAt` is null when the file has no timestamps. */
export interface ParsedEntry {
  command: string
  startedAt: number | null
  durationMs?: number | null
  exitCode?: number | null
  cwd?: string | null
  host?: string | null
  shell?: string | null
  session?: string | null
  ptyId?: string | null
  /** The row's own source (cmdai's exports keep it); else the import format. */
  source?: string | null
  /** A stable id within the file, for idempotent re-imports. */
  key: string
  /** 1-based line (or row) where the entry starts. */
  line: number
  ai?: {
    request: string
    proposedCommand: string | null
    decision: string | null
    risk: string | null
  } | null
}

export interface Skip {
  line: number
  reason: string
}

export type ParseEvent = { entry: ParsedEntry } | { skip: Skip }

/** Parses a history file one line at a time (so memory stays flat whatever the file's size). */
export interface LineParser {
  line(text: string, lineNo: number): ParseEvent[]
  end(): ParseEvent[]
}

const entry = (e: ParsedEntry): ParseEvent => ({ entry: e })
const skip = (line: number, reason: string): ParseEvent => ({ skip: { line, reason } })
const stripCr = (s: string) => (s.endsWith('\r') ? s.slice(0, -1) : s)

/** Seconds since 1970 as ms, or the reason it cannot be a time. */
function seconds(digits: string): number | string {
  const ms = Number(digits) * 1000
  return timeProblem(ms) ?? ms
}

/** bash: one command per line; with HISTTIMEFORMAT set, `#<epoch seconds>` lines precede them. */
export function bashParser(): LineParser {
  let ts: number | null = null
  return {
    line(raw, n) {
      const line = stripCr(raw)
      const stamp = /^#(\d{9,})$/.exec(line)
      if (stamp) {
        const t = seconds(stamp[1]!)
        ts = typeof t === 'number' ? t : null
        return typeof t === 'number' ? [] : [skip(n, t)]
      }
      if (!line.trim()) return []
      const e: ParsedEntry = { command: line, startedAt: ts, key: `l${n - 1}`, line: n }
      ts = null
      return [entry(e)]
    },
    end: () => [],
  }
}

/**
 * zsh: plain lines, or the extended format `: <start>:<elapsed>;<command>`. A line ending in a
 * backslash continues on the next line (multi-line commands). The bytes are "metafied" (see
 * `unmetafy`), which the caller undoes before decoding.
 */
export function zshParser(): LineParser {
  let parts: string[] = []
  let chars = 0
  let start = 0
  const finish = (): ParseEvent[] => {
    if (!parts.length) return []
    const line = parts.join('\n')
    const n = start
    parts = []
    if (chars > LIMITS.commandChars) {
      chars = 0
      return [skip(n, `the command is over ${LIMITS.commandChars} characters long`)]
    }
    chars = 0
    if (!line.trim()) return []
    const ext = /^: *(\d+):(\d+);([\s\S]*)$/.exec(line)
    if (!ext) return [entry({ command: line, startedAt: null, key: `l${n - 1}`, line: n })]
    if (!ext[3]!.trim()) return []
    const t = seconds(ext[1]!)
    if (typeof t === 'string') return [skip(n, t)]
    return [
      entry({
        command: ext[3]!,
        startedAt: t,
        durationMs: Number(ext[2]) * 1000,
        key: `l${n - 1}`,
        line: n,
      }),
    ]
  }
  return {
    line(text, n) {
      if (!parts.length) start = n
      const continues = text.endsWith('\\')
      const piece = continues ? text.slice(0, -1) : text
      chars += piece.length + 1
      // Past the limit, the rest of the command is only counted, not kept.
      if (chars <= LIMITS.commandChars) parts.push(piece)
      else if (!parts.length) parts.push('')
      return continues ? [] : finish()
    },
    end: () => finish(),
  }
}

/** zsh's metafication: byte 0x83 marks that the next byte was XORed with 32. */
export function unmetafy(buf: Buffer): Buffer {
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
export function fishParser(): LineParser {
  let current: ParsedEntry | null = null
  let bad: string | null = null
  const flush = (): ParseEvent[] => {
    const e = current
    const reason = bad
    current = null
    bad = null
    if (!e) return []
    if (reason) return [skip(e.line, reason)]
    return e.command.trim() ? [entry(e)] : []
  }
  return {
    line(raw, n) {
      const line = stripCr(raw)
      const cmd = /^- cmd: (.*)$/.exec(line)
      if (cmd) {
        const out = flush()
        current = { command: unescapeFish(cmd[1]!), startedAt: null, key: `l${n - 1}`, line: n }
        return out
      }
      const when = /^ {2}when: (\d+)/.exec(line)
      if (when && current) {
        const t = seconds(when[1]!)
        if (typeof t === 'number') current.startedAt = t
        else bad = t
      }
      return []
    },
    end: () => flush(),
  }
}

function unescapeFish(s: string): string {
  return s.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'))
}

const nullableText = z.string().nullable().optional()
/** One record of cmdai's own export (EXPORT.md), as JSON lines or CSV. */
const exportRecord = z.object({
  command: z.string(),
  cwd: nullableText,
  exit_code: z.number().int().nullable().optional(),
  started_at: z.union([z.string(), z.number()]).nullable().optional(),
  duration_ms: z.number().nullable().optional(),
  shell: nullableText,
  host: nullableText,
  session_id: nullableText,
  pty_id: nullableText,
  source: nullableText,
  ai_request: nullableText,
  ai_proposed_command: nullableText,
  ai_decision: z.enum(AI_DECISIONS).nullable().optional(),
  ai_risk: z.enum(['safe', 'moderate', 'high', 'critical']).nullable().optional(),
})
type ExportRecord = z.infer<typeof exportRecord>

function fromExportRecord(value: unknown, n: number): ParseEvent {
  const parsed = exportRecord.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    return skip(
      n,
      `not a cmdai export record (${issue?.path.join('.') || 'row'}: ${issue?.message})`,
    )
  }
  const r: ExportRecord = parsed.data
  if (r.started_at == null) return skip(n, 'the record has no start time')
  const startedAt = typeof r.started_at === 'number' ? r.started_at : Date.parse(r.started_at)
  if (Number.isNaN(startedAt)) return skip(n, `the start time "${r.started_at}" is not a date`)
  const key = ['row', r.command, startedAt, r.cwd ?? '', r.session_id ?? '', r.pty_id ?? ''].join(
    '\0',
  )
  return entry({
    command: r.command,
    startedAt,
    durationMs: r.duration_ms ?? null,
    exitCode: r.exit_code ?? null,
    cwd: r.cwd ?? null,
    host: r.host ?? null,
    shell: r.shell ?? null,
    session: r.session_id ?? null,
    ptyId: r.pty_id ?? null,
    source: r.source ?? null,
    key,
    line: n,
    ai: r.ai_request
      ? {
          request: r.ai_request,
          proposedCommand: r.ai_proposed_command ?? null,
          decision: r.ai_decision ?? null,
          risk: r.ai_risk ?? null,
        }
      : null,
  })
}

/** cmdai's JSON-lines export: one record per line. */
export function jsonlParser(): LineParser {
  return {
    line(raw, n) {
      const line = stripCr(raw)
      if (!line.trim()) return []
      let value: unknown
      try {
        value = JSON.parse(line)
      } catch (err) {
        return [skip(n, `not valid JSON (${(err as Error).message})`)]
      }
      return [fromExportRecord(value, n)]
    },
    end: () => [],
  }
}

const INT_COLUMNS = new Set(['exit_code', 'duration_ms', 'id', 'ai_request_id'])

/**
 * cmdai's CSV export (RFC 4180): a header line naming the columns, quoted fields that may hold
 * commas, quotes and line breaks. Hand-rolled rather than a dependency: it must report the line
 * each record starts on and bound a record that never closes its quote, per line fed to it.
 */
export function csvParser(): LineParser {
  let header: string[] | null = null
  let fields: string[] = []
  let field = ''
  let quoted = false
  let start = 0
  let size = 0
  const maxRecord = LIMITS.commandChars * 4
  const reset = () => {
    fields = []
    field = ''
    quoted = false
    size = 0
  }
  const record = (n: number): ParseEvent[] => {
    const values = [...fields, field]
    reset()
    if (!header) {
      header = values.map((v) => v.trim())
      const missing = ['command', 'started_at'].filter((c) => !header!.includes(c))
      if (missing.length) {
        const known = header.filter((h) => (EXPORT_COLUMNS as readonly string[]).includes(h))
        header = null
        return [
          skip(
            n,
            `not a cmdai CSV export: the header lacks ${missing.join(', ')} (found ${known.length} known columns)`,
          ),
        ]
      }
      return []
    }
    if (values.length === 1 && values[0] === '') return []
    if (values.length !== header.length) {
      return [skip(n, `has ${values.length} fields, the header ${header.length}`)]
    }
    const obj: Record<string, unknown> = {}
    for (let i = 0; i < header.length; i++) {
      const name = header[i]!
      const v = values[i]!
      obj[name] = v === '' ? null : INT_COLUMNS.has(name) && /^-?\d+$/.test(v) ? Number(v) : v
    }
    return [fromExportRecord(obj, n)]
  }
  return {
    line(raw, n) {
      if (!quoted) start = n
      const text = raw
      size += text.length + 1
      if (size > maxRecord) {
        reset()
        return [skip(start, `the record is over ${maxRecord} characters (an unclosed quote?)`)]
      }
      for (let i = 0; i < text.length; i++) {
        const c = text[i]!
        if (quoted) {
          if (c === '"') {
            if (text[i + 1] === '"') {
              field += '"'
              i++
            } else quoted = false
          } else field += c
        } else if (c === '"' && field === '') quoted = true
        else if (c === ',') {
          fields.push(field)
          field = ''
        } else if (c === '\r' && i === text.length - 1) {
          // CRLF outside quotes: the CR belongs to the line end (inside quotes it is data).
        } else field += c
      }
      if (quoted) {
        field += '\n'
        return []
      }
      return record(start)
    },
    end() {
      if (quoted) {
        reset()
        return [skip(start, 'the file ends inside a quoted field')]
      }
      return fields.length || field ? record(start) : []
    },
  }
}

/** Guesses the format from the file's name and first bytes. */
export function detectFormat(path: string, head: string): ImportFormat {
  const name = basename(path).toLowerCase()
  if (head.startsWith('SQLite format 3')) return 'atuin'
  const firstLine = head.split(/\r?\n/).find((l) => l.trim()) ?? ''
  if (name.endsWith('.jsonl') || /^\{\s*"(id|command)"\s*:/.test(firstLine)) return 'jsonl'
  if (name.endsWith('.csv') || /^(id,)?command,/.test(firstLine)) return 'csv'
  if (name.includes('fish') || /^- cmd: /m.test(head)) return 'fish'
  if (name.includes('zsh') || /^: \d+:\d+;/m.test(head)) return 'zsh'
  return 'bash'
}

export function parserFor(format: Exclude<ImportFormat, 'atuin'>): LineParser {
  switch (format) {
    case 'bash':
      return bashParser()
    case 'zsh':
      return zshParser()
    case 'fish':
      return fishParser()
    case 'jsonl':
      return jsonlParser()
    case 'csv':
      return csvParser()
  }
}
