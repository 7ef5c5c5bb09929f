import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { agentEventInputSchema, type AgentEventInput } from '../../contract/agent'
import { listAgentEvents, recordAgentEvent } from './agent-events'
import { redactForHistory } from './redact'
import { HistoryStore } from './store'

let root: string
let store: HistoryStore
const T0 = Date.UTC(2026, 5, 1)

const event = (e: Partial<AgentEventInput> & { command: string }): AgentEventInput => ({
  client: { name: 'claude-code', version: '2.1.0' },
  via: 'mcp',
  tool: 'run_command',
  risk: 'safe',
  action: 'allow',
  reasons: [],
  decision: 'checked',
  startedAt: T0,
  ...e,
})

const query = (q: Record<string, unknown> = {}) =>
  listAgentEvents(store, { query: '', limit: 100, ...q })

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'cmdai-agent-events-'))
  store = await HistoryStore.open({ dir: join(root, 'history'), redact: redactForHistory })
})
afterAll(async () => {
  await store?.close()
  rmSync(root, { recursive: true, force: true })
})

describe('agent events in history', () => {
  it('records a command an agent ran as an event and as a command row with source agent', async () => {
    const { event: recorded, command } = await recordAgentEvent(
      store,
      event({
        command: 'npm test -- --run',
        cwd: '/home/u/proj',
        shell: 'bash',
        decision: 'allowed',
        exitCode: 1,
        durationMs: 2300,
        startedAt: T0 + 1000,
      }),
      redactForHistory,
    )
    expect(command).toMatchObject({ command: 'npm test -- --run', source: 'agent', exitCode: 1 })
    expect(recorded).toMatchObject({
      client: { name: 'claude-code', version: '2.1.0' },
      decision: 'allowed',
      exitCode: 1,
      durationMs: 2300,
      commandId: command!.id,
    })
    // The terminal history search finds it like any other command.
    const hits = await store.search({ query: 'npm test', mode: 'text', limit: 10 })
    expect(hits.hits.map((h) => [h.command, h.last.source])).toEqual([
      ['npm test -- --run', 'agent'],
    ])
  })

  it('records checks, refusals and denials without a command row', async () => {
    const before = (await store.stats()).totalCommands
    for (const [command, decision, risk, action] of [
      ['rm -rf /', 'blocked', 'critical', 'block'],
      ['git push --force origin main', 'denied', 'high', 'confirm'],
      ['git push --force origin dev', 'refused', 'high', 'confirm'],
      ['ls -la', 'checked', 'safe', 'allow'],
    ] as const) {
      const { command: row } = await recordAgentEvent(
        store,
        event({
          command,
          decision,
          risk,
          action,
          client: { name: 'codex' },
          reasons: [{ ruleId: 'x.rule', risk, message: `why ${command}` }],
          note: decision === 'denied' ? 'not on main' : undefined,
        }),
        redactForHistory,
      )
      expect(row).toBeNull()
    }
    expect((await store.stats()).totalCommands).toBe(before)
  })

  it('lists newest first, filtered by agent, decision and words, with paging', async () => {
    const all = await query()
    expect(all.events.map((e) => e.command)).toEqual([
      'ls -la',
      'git push --force origin dev',
      'git push --force origin main',
      'rm -rf /',
      'npm test -- --run',
    ])
    expect(all.clients).toEqual(['claude-code', 'codex'])
    expect((await query({ client: 'claude-code' })).events.map((e) => e.command)).toEqual([
      'npm test -- --run',
    ])
    expect((await query({ decision: 'denied' })).events[0]).toMatchObject({
      command: 'git push --force origin main',
      note: 'not on main',
      reasons: [{ ruleId: 'x.rule', risk: 'high', message: 'why git push --force origin main' }],
    })
    expect((await query({ query: 'PUSH main' })).events.map((e) => e.command)).toEqual([
      'git push --force origin main',
    ])
    // LIKE wildcards are plain characters here.
    expect((await query({ query: '%' })).events).toEqual([])
    expect((await query({ query: '_' })).events).toEqual([])
    const page = await query({ limit: 2 })
    const next = await query({ limit: 2, beforeId: page.events[1]!.id })
    expect(next.events.map((e) => e.command)).toEqual(['git push --force origin main', 'rm -rf /'])
  })

  it('redacts secrets before anything is written, and stores NUL bytes safely', async () => {
    const secret = 'AKIAIOSFODNN7EXAMPLE'
    const { event: recorded } = await recordAgentEvent(
      store,
      event({
        command: `aws s3 ls --profile x AWS_ACCESS_KEY_ID=${secret}\0tail`,
        cwd: '/tmp/\0dir',
        note: `password=${secret}`,
        reasons: [{ ruleId: 'r\0', risk: 'moderate', message: `saw ${secret}` }],
        exitCode: 0,
      }),
      redactForHistory,
    )
    const stored = JSON.stringify(recorded)
    expect(stored).not.toContain(secret)
    expect(stored).not.toContain('\\u0000')
    const rows = await store.db.query<{ text: string }>(
      `SELECT text FROM command_texts WHERE text LIKE 'aws s3%'`,
    )
    expect(rows.rows[0]?.text).not.toContain(secret)
  })

  it('the contract bounds what an agent can send', () => {
    const ok = agentEventInputSchema.safeParse(event({ command: 'ls' }))
    expect(ok.success).toBe(true)
    for (const bad of [
      { ...event({ command: 'ls' }), decision: 'maybe' },
      { ...event({ command: 'x'.repeat(100_001) }) },
      { ...event({ command: 'ls' }), extra: 1 },
      { ...event({ command: 'ls' }), client: { name: '' } },
      {
        ...event({ command: 'ls' }),
        reasons: Array(101).fill({ ruleId: 'a', risk: 'safe', message: '' }),
      },
    ]) {
      expect(agentEventInputSchema.safeParse(bad).success).toBe(false)
    }
  })
})
