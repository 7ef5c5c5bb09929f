import type { AgentEvent } from '../../contract/agent'
import type { ClientEvent } from '../../contract/sync'

/** A client event without what the queue adds (id, time, team). */
export type AgentAuditDraft = Omit<ClientEvent, 'id' | 'ts' | 'team'>

/**
 * What the team's audit log is told about a coding agent's command (contract/sync.ts client
 * events; the library domain queues it for each team the user belongs to). A command that ran is
 * a `command.run`; everything else an agent asked about, was refused or was decided by the user is
 * a `policy.decision`. The agent, the way it came in and the outcome go in `reason`; the command
 * is redacted by the queue (and again by the server). Never output.
 */
export function agentAuditEvent(event: AgentEvent): AgentAuditDraft {
  const ran =
    event.exitCode !== undefined && (event.decision === 'allowed' || event.decision === 'approved')
  const decision = ran
    ? 'ran'
    : ({ blocked: 'blocked', refused: 'blocked', denied: 'denied', expired: 'cancelled' } as const)[
        event.decision as 'blocked'
      ]
  const why = `agent ${event.client.name} via ${event.via} ${event.tool}: ${event.decision}${event.note ? ` (${event.note})` : ''}`
  return {
    kind: ran ? 'command.run' : 'policy.decision',
    command: event.command.slice(0, 16_384),
    ...(event.shell ? { shell: event.shell } : {}),
    risk: event.risk,
    action: event.action,
    ...(decision ? { decision } : {}),
    ...(event.policyRule ? { ruleId: event.policyRule.slice(0, 100) } : {}),
    ...(ran && event.exitCode !== null && event.exitCode !== undefined
      ? { exitCode: event.exitCode }
      : {}),
    ...(ran && event.durationMs !== undefined ? { durationMs: event.durationMs } : {}),
    reason: why.slice(0, 2_000),
  }
}
