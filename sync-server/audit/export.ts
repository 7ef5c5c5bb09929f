import { canonicalJson, type AuditRecord } from '../../contract/sync'
import type { RawLine } from './chain'

export const EXPORT_FORMATS = ['jsonl', 'csv', 'syslog', 'cef'] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]

export interface ExportOptions {
  format: ExportFormat
  /** Inclusive lower bound on the record time (epoch ms). */
  since?: number
  /** Exclusive upper bound. */
  until?: number
  /** Host name in syslog headers. */
  hostname: string
  /** Server version in CEF headers. */
  version: string
}

/** Kinds that record a failure or a refusal: a higher severity in syslog and CEF. */
const WARNING_KINDS = new Set(['auth.failure', 'write.refused'])
const INFO_KINDS = new Set(['connection.open', 'connection.close'])

const CSV_COLUMNS = ['seq', 'ts', 'team', 'kind', 'actor', 'role', 'room', 'data', 'prev', 'hash']

/**
 * Turns stored record lines into an export, one output line per record: `jsonl` (the stored lines
 * themselves, so they still verify), `csv` (RFC 4180, with spreadsheet formula injection
 * neutralised), `syslog` (RFC 5424, facility 13 "log audit", structured data under the
 * documentation enterprise number 32473) or `cef` (ArcSight Common Event Format 0).
 */
export async function* exportRecords(
  lines: AsyncIterable<RawLine>,
  options: ExportOptions,
): AsyncGenerator<string> {
  if (options.format === 'csv') yield CSV_COLUMNS.join(',') + '\r\n'
  for await (const { line } of lines) {
    const rec = JSON.parse(line) as AuditRecord
    const t = Date.parse(rec.ts)
    if (options.since !== undefined && t < options.since) continue
    if (options.until !== undefined && t >= options.until) continue
    switch (options.format) {
      case 'jsonl':
        yield line + '\n'
        break
      case 'csv':
        yield toCsv(rec) + '\r\n'
        break
      case 'syslog':
        yield toSyslog(rec, options.hostname) + '\n'
        break
      case 'cef':
        yield toCef(rec, options.version) + '\n'
        break
    }
  }
}

function csvCell(value: unknown): string {
  let text = value === undefined || value === null ? '' : String(value)
  // A cell starting with = + - @ (or a tab/CR) is a formula to spreadsheets: make it text.
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

export function toCsv(rec: AuditRecord): string {
  const row: unknown[] = [
    rec.seq,
    rec.ts,
    rec.team,
    rec.kind,
    rec.actor,
    rec.role,
    rec.room,
    canonicalJson(rec.data),
    rec.prev,
    rec.hash,
  ]
  return row.map(csvCell).join(',')
}

/** RFC 5424 PARAM-VALUE: escape `"`, `\` and `]`; control characters become spaces. */
function sdValue(value: unknown): string {
  return (
    String(value)
      .replace(/[\\"\]]/g, (c) => `\\${c}`)
      // eslint-disable-next-line no-control-regex -- control characters are what we strip
      .replace(/[\u0000-\u001f\u007f]/g, ' ')
  )
}

/** RFC 5424 header fields: printable US-ASCII only, `-` when empty. */
function headerField(value: string, max: number): string {
  const clean = value.replace(/[^\x21-\x7e]/g, '').slice(0, max)
  return clean || '-'
}

export function toSyslog(rec: AuditRecord, hostname: string): string {
  const severity = WARNING_KINDS.has(rec.kind) ? 4 : INFO_KINDS.has(rec.kind) ? 6 : 5
  const pri = 13 * 8 + severity
  const params: Array<[string, unknown]> = [
    ['team', rec.team],
    ['seq', rec.seq],
    ['actor', rec.actor],
    ['role', rec.role],
    ['room', rec.room],
    ['prev', rec.prev],
    ['hash', rec.hash],
  ]
  const sd = params
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}="${sdValue(v)}"`)
    .join(' ')
  // MSG: a UTF-8 BOM, then the record's details as canonical JSON (no raw newlines).
  return (
    `<${pri}>1 ${rec.ts} ${headerField(hostname, 255)} cmdai-sync - ${headerField(rec.kind, 32)} ` +
    `[cmdai@32473 ${sd}] \uFEFF${canonicalJson(rec.data)}`
  )
}

const cefHeader = (v: string) =>
  v
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/[\r\n]/g, ' ')
const cefValue = (v: unknown) =>
  String(v)
    .replace(/\\/g, '\\\\')
    .replace(/=/g, '\\=')
    .replace(/\r\n|\r|\n/g, '\\n')
    // eslint-disable-next-line no-control-regex -- control characters are what we strip
    .replace(/[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f]/g, ' ')

export function toCef(rec: AuditRecord, version: string): string {
  const severity = WARNING_KINDS.has(rec.kind) ? 7 : INFO_KINDS.has(rec.kind) ? 2 : 4
  const custom = (n: number, label: string, value: unknown): Array<[string, unknown]> =>
    value === undefined
      ? []
      : [
          [`cs${n}Label`, label],
          [`cs${n}`, value],
        ]
  const ext: Array<[string, unknown]> = [
    ['rt', Date.parse(rec.ts)],
    ['suser', rec.actor],
    ['externalId', `${rec.team}:${rec.seq}`],
    ['cn1Label', 'seq'],
    ['cn1', rec.seq],
    ...custom(1, 'team', rec.team),
    ...custom(2, 'room', rec.room),
    ...custom(3, 'hash', rec.hash),
    ...custom(4, 'role', rec.role),
    ['msg', canonicalJson(rec.data)],
  ]
  const extension = ext.map(([k, v]) => `${k}=${cefValue(v)}`).join(' ')
  return `CEF:0|cmdai|cmdai-sync|${cefHeader(version)}|${cefHeader(rec.kind)}|${cefHeader(rec.kind)}|${severity}|${extension}`
}
