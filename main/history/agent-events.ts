import type {
  AgentDecision,
  AgentEvent,
  AgentEventInput,
  AgentEventsResult,
  AgentVia,
} from '../../contract/agent'
import type { HistoryCommand, HistoryRequestsArgs } from './types'
import type { HistoryStore } from './store'

/**
 * What coding agents asked about or ran (`agent_events`, migration 6). A command an agent ran
 * under cmdai (MCP `run_command`: it has an exit status) also becomes an ordinary command row with
 * source `agent`, so Ctrl+R finds it like any other; the event links to it.
 */

interface AgentEventRow {
  id: number
  started_at: number
  client: string
  client_version: string | null
  via: string
  tool: string
  command: string
  cwd: string | null
  shell: string | null
  risk: string
  action: string
  reasons: AgentEventInput['reasons']
  policy_rule: string | null
  decision: string
  note: string | null
  agent_session: string | null
  exit_code: number | null
  duration_ms: number | null
  command_id: number | null
}

/** Records the event, and the command row when it ran (returned so the caller can announce it). */
export async function recordAgentEvent(
  store: HistoryStore,
  input: AgentEventInput,
  redactSecrets: (text: string) => string,
): Promise<{ event: AgentEvent; command: HistoryCommand | null }> {
  const redact = (text: string) => redactSecrets(noNul(text))
  let command: HistoryCommand | null = null
  if (input.exitCode !== undefined && input.command.trim()) {
    const [row] = await store.recordCommands([
      {
        command: noNul(input.command),
        cwd: input.cwd === undefined ? null : noNul(input.cwd),
        exitCode: input.exitCode,
        startedAt: input.startedAt,
        durationMs: input.durationMs ?? null,
        shell: input.shell ?? null,
        source: 'agent',
      },
    ])
    command = row ?? null
  }
  const opt = (v: string | undefined) => (v === undefined ? null : redact(v))
  const res = await store.db.query<AgentEventRow>(
    `INSERT INTO agent_events (created_at, started_at, client, client_version, via, tool, command,
       cwd, shell, risk, action, reasons, policy_rule, decision, note, agent_session, exit_code,
       duration_ms, command_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
     RETURNING *`,
    [
      Date.now(),
      input.startedAt,
      redact(input.client.name),
      opt(input.client.version),
      input.via,
      noNul(input.tool),
      redact(input.command),
      opt(input.cwd),
      input.shell ?? null,
      input.risk,
      input.action,
      JSON.stringify(
        input.reasons.map((r) => ({ ...r, ruleId: noNul(r.ruleId), message: redact(r.message) })),
      ),
      input.policyRule === undefined ? null : noNul(input.policyRule),
      input.decision,
      opt(input.note),
      opt(input.agentSession),
      input.exitCode ?? null,
      input.durationMs ?? null,
      command?.id ?? null,
    ],
  )
  return { event: toAgentEvent(res.rows[0]!), command }
}

/** Postgres text (and jsonb) cannot hold NUL, and an agent can send anything. */
function noNul(text: string): string {
  return text.replace(/\0/g, '\uFFFD')
}

export async function listAgentEvents(
  store: HistoryStore,
  query: HistoryRequestsArgs['history:agentEvents'],
): Promise<AgentEventsResult> {
  const where: string[] = []
  const params: unknown[] = []
  const param = (value: unknown) => {
    params.push(value)
    return `$${params.length}`
  }
  if (query.client !== undefined) where.push(`client = ${param(query.client)}`)
  if (query.decision !== undefined) where.push(`decision = ${param(query.decision)}`)
  if (query.beforeId !== undefined) where.push(`id < ${param(query.beforeId)}`)
  const words = query.query.toLowerCase().split(/\s+/).filter(Boolean).slice(0, 20)
  for (const word of words) where.push(`strpos(lower(command), ${param(word)}) > 0`)
  const sql = `SELECT * FROM agent_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY id DESC LIMIT ${param(query.limit)}`
  const [events, clients] = await Promise.all([
    store.db.query<AgentEventRow>(sql, params),
    store.db.query<{ client: string }>(
      'SELECT DISTINCT client FROM agent_events ORDER BY client LIMIT 200',
    ),
  ])
  return { events: events.rows.map(toAgentEvent), clients: clients.rows.map((r) => r.client) }
}

function toAgentEvent(row: AgentEventRow): AgentEvent {
  const event: AgentEvent = {
    id: row.id,
    client: row.client_version
      ? { name: row.client, version: row.client_version }
      : { name: row.client },
    via: row.via as AgentVia,
    tool: row.tool,
    command: row.command,
    risk: row.risk as AgentEvent['risk'],
    action: row.action as AgentEvent['action'],
    reasons: row.reasons,
    decision: row.decision as AgentDecision,
    startedAt: row.started_at,
    commandId: row.command_id,
  }
  if (row.cwd !== null) event.cwd = row.cwd
  if (row.shell !== null) event.shell = row.shell as AgentEvent['shell']
  if (row.policy_rule !== null) event.policyRule = row.policy_rule
  if (row.note !== null) event.note = row.note
  if (row.agent_session !== null) event.agentSession = row.agent_session
  if (row.exit_code !== null || row.command_id !== null) event.exitCode = row.exit_code
  if (row.duration_ms !== null) event.durationMs = row.duration_ms
  return event
}
