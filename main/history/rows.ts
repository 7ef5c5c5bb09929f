import type { AiDecision, HistoryAiRequest, HistoryCommand } from '../../contract/history'

/** Columns selected for a command row (`c` = commands, `t` = command_texts). */
export const COMMAND_COLUMNS = `c.id, c.text_id, t.text, c.cwd, c.exit_code, c.started_at, c.duration_ms,
  c.shell, c.host, c.session_id, c.pty_id, c.source, c.ai_request_id`

export interface CommandRow {
  id: number
  text_id: number
  text: string
  cwd: string | null
  exit_code: number | null
  started_at: number
  duration_ms: number | null
  shell: string | null
  host: string | null
  session_id: string | null
  pty_id: string | null
  source: string
  ai_request_id: number | null
}

export function toCommand(row: CommandRow): HistoryCommand {
  return {
    id: row.id,
    command: row.text,
    cwd: row.cwd,
    exitCode: row.exit_code,
    startedAt: row.started_at,
    durationMs: row.duration_ms,
    shell: row.shell,
    host: row.host,
    sessionId: row.session_id,
    ptyId: row.pty_id,
    source: row.source,
    aiRequestId: row.ai_request_id,
  }
}

export interface AiRow {
  id: number
  created_at: number
  request: string
  context_summary: string | null
  model: string | null
  backend: string | null
  timings: Record<string, number> | null
  proposed_command: string | null
  risk: string | null
  reasons: HistoryAiRequest['reasons']
  decision: string | null
  final_command: string | null
  command_id: number | null
  pty_id: string | null
}

export function toAiRequest(row: AiRow): HistoryAiRequest {
  return {
    id: row.id,
    createdAt: row.created_at,
    request: row.request,
    contextSummary: row.context_summary,
    model: row.model,
    backend: row.backend,
    timings: row.timings,
    proposedCommand: row.proposed_command,
    risk: row.risk,
    reasons: row.reasons,
    decision: row.decision as AiDecision | null,
    finalCommand: row.final_command,
    commandId: row.command_id,
  }
}
