import { describe, expect, it } from 'vitest'
import { AGENT_DECISIONS, type AgentEvent } from '../../contract/agent'
import { clientEventSchema } from '../../contract/sync'
import { agentAuditEvent } from './team-audit'

const base: AgentEvent = {
  id: 7,
  client: { name: 'claude-code', version: '2.0' },
  via: 'mcp',
  tool: 'run_command',
  command: 'rm -rf ./build',
  shell: 'bash',
  risk: 'high',
  action: 'confirm',
  reasons: [{ ruleId: 'fs.rm.relative', risk: 'high', message: 'Deletes build' }],
  policyRule: 'no-rm',
  decision: 'approved',
  startedAt: 1_800_000_000_000,
  exitCode: 0,
  durationMs: 12,
  commandId: 3,
}

describe("agents' commands in the team audit log", () => {
  it('every decision becomes a client event the server accepts', () => {
    for (const decision of AGENT_DECISIONS) {
      for (const exitCode of [undefined, 0, 2, null]) {
        const draft = agentAuditEvent({ ...base, decision, exitCode })
        const event = { ...draft, id: 'evt-12345678', ts: 1, team: 'acme' }
        const parsed = clientEventSchema.safeParse(event)
        expect(
          parsed.success,
          `${decision} ${exitCode}: ${JSON.stringify(parsed.error?.issues)}`,
        ).toBe(true)
      }
    }
  })

  it('a run is command.run with its exit status; the rest are policy decisions, never output', () => {
    expect(agentAuditEvent(base)).toMatchObject({
      kind: 'command.run',
      decision: 'ran',
      exitCode: 0,
      ruleId: 'no-rm',
      reason: 'agent claude-code via mcp run_command: approved',
    })
    expect(
      agentAuditEvent({ ...base, decision: 'denied', exitCode: undefined, note: 'not now' }),
    ).toMatchObject({
      kind: 'policy.decision',
      decision: 'denied',
      reason: 'agent claude-code via mcp run_command: denied (not now)',
    })
    expect(agentAuditEvent({ ...base, decision: 'blocked', exitCode: undefined })).toMatchObject({
      kind: 'policy.decision',
      decision: 'blocked',
    })
    const huge = agentAuditEvent({ ...base, command: 'x'.repeat(50_000), note: 'y'.repeat(5_000) })
    expect(
      clientEventSchema.safeParse({ ...huge, id: 'evt-12345678', ts: 1, team: 'acme' }).success,
    ).toBe(true)
  })
})
