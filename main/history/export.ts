import type { HistoryCommand, HistoryFilter } from '../../contract/history'
import type { HistoryStore } from './store'
import { isoOrNull } from './validate'

/** The columns of an export, in order (see EXPORT.md). */
export const EXPORT_COLUMNS = [
  'id',
  'command',
  'cwd',
  'exit_code',
  'started_at',
  'duration_ms',
  'shell',
  'host',
  'session_id',
  'pty_id',
  'source',
  'ai_request_id',
  'ai_request',
  'ai_proposed_command',
  'ai_decision',
  'ai_risk',
] as const

type ExportRecord = Record<(typeof EXPORT_COLUMNS)[number], string | number | null>

/**
 * Writes the commands matching `filter` (oldest first) as JSON lines or CSV, in chunks, through
 * `write`; returns the number of rows.
 */
export async function exportHistory(
  store: HistoryStore,
  format: 'jsonl' | 'csv',
  filter: HistoryFilter | undefined,
  write: (chunk: string) => void | Promise<void>,
): Promise<number> {
  let rows = 0
  let buffer = format === 'csv' ? EXPORT_COLUMNS.join(',') + '\r\n' : ''
  for await (const command of store.iterateCommands(filter)) {
    const record = await toRecord(store, command)
    buffer += format === 'csv' ? toCsvLine(record) : JSON.stringify(record) + '\n'
    rows++
    if (buffer.length > 64 * 1024) {
      await write(buffer)
      buffer = ''
    }
  }
  if (buffer) await write(buffer)
  return rows
}

async function toRecord(store: HistoryStore, c: HistoryCommand): Promise<ExportRecord> {
  const ai = c.aiRequestId === null ? null : await store.getAi(c.aiRequestId)
  return {
    id: c.id,
    command: c.command,
    cwd: c.cwd,
    exit_code: c.exitCode,
    // A start time no Date can hold (a row from before the constraints) is exported as null
    // rather than breaking the whole export.
    started_at: isoOrNull(c.startedAt),
    duration_ms: c.durationMs,
    shell: c.shell,
    host: c.host,
    session_id: c.sessionId,
    pty_id: c.ptyId,
    source: c.source,
    ai_request_id: c.aiRequestId,
    ai_request: ai?.request ?? null,
    ai_proposed_command: ai?.proposedCommand ?? null,
    ai_decision: ai?.decision ?? null,
    ai_risk: ai?.risk ?? null,
  }
}

/** RFC 4180: quote fields with a comma, quote, CR or LF; double the quotes. Null is empty. */
export function toCsvLine(record: ExportRecord): string {
  return (
    EXPORT_COLUMNS.map((key) => {
      const value = record[key]
      if (value === null) return ''
      const s = String(value)
      return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
    }).join(',') + '\r\n'
  )
}
