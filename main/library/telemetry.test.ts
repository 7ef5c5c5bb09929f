import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { HistoryAiRequest, HistoryCommand } from '../../contract/history'
import type { ClientEvent } from '../../contract/sync'
import { DEFAULT_TELEMETRY, type TeamTelemetry as Setting } from '../../contract/telemetry'
import type { EventDraft } from './event-queue'
import { TeamTelemetry } from './telemetry'

/** What the app reports per the team's choice, and the log of what it sent. */
const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function setup(setting: Partial<Setting>, logPath?: string) {
  const dir = mkdtempSync(join(tmpdir(), 'cmdai-telemetry-'))
  dirs.push(dir)
  const listeners = new Set<(event: string, payload: unknown) => void>()
  const queued: Array<{ team: string; draft: EventDraft }> = []
  const t = new TeamTelemetry({
    teams: () => ['acme'],
    setting: () => ({ telemetry: { ...DEFAULT_TELEMETRY, ...setting }, chosen: true }),
    server: () => 'http://127.0.0.1:4455',
    add: async (team, draft) => queued.push({ team, draft }),
    subscribe: (l) => (listeners.add(l), () => listeners.delete(l)),
    logPath: logPath ?? join(dir, 'sent-events.jsonl'),
  })
  const emit = (event: string, payload: unknown) => {
    for (const l of listeners) l(event, payload)
  }
  return { t, queued, emit, dir }
}

const ai = (extra: Partial<HistoryAiRequest>): HistoryAiRequest => ({
  id: 7,
  createdAt: 1,
  request: 'delete my secret files',
  contextSummary: 'cwd /home/ana/secret-project',
  model: '/home/ana/models/qwen2.5-coder-1.5b-q8_0.gguf',
  backend: 'local',
  timings: { totalMs: 812.4, firstTokenMs: 100 },
  proposedCommand: 'rm -rf ./build',
  risk: 'high',
  reasons: null,
  decision: null,
  finalCommand: null,
  commandId: null,
  ...extra,
})

const run = (extra: Partial<HistoryCommand>): HistoryCommand => ({
  id: 1,
  command: 'rm -rf ./build',
  cwd: '/home/ana/secret-project',
  exitCode: 1,
  startedAt: 1,
  durationMs: 30,
  shell: 'bash',
  host: 'laptop',
  sessionId: 's',
  ptyId: 'p',
  source: 'terminal',
  aiRequestId: 7,
  ...extra,
})

describe('team telemetry', () => {
  it('sends nothing beyond the audit trail while the team has not asked', () => {
    const { queued, emit } = setup({})
    emit('history:ai', ai({ decision: 'ran' }))
    emit('history:recorded', run({}))
    expect(queued).toEqual([])
  })

  it('reports a decision once, with the model name, latency and risk, never the request or a path', () => {
    const { queued, emit } = setup({ aiDecisions: true })
    emit('history:ai', ai({}))
    emit('history:ai', ai({ decision: 'ran' }))
    emit('history:ai', ai({ decision: 'ran' }))
    expect(queued).toEqual([
      {
        team: 'acme',
        draft: {
          kind: 'ai.decision',
          decision: 'ran',
          model: 'qwen2.5-coder-1.5b-q8_0.gguf',
          latencyMs: 812,
          risk: 'high',
        },
      },
    ])
    const text = JSON.stringify(queued)
    for (const secret of ['delete my secret files', 'secret-project', '/home/ana', 'rm -rf'])
      expect(text).not.toContain(secret)
  })

  it('adds the command only when the team asked for it (the edited one when edited)', () => {
    const { queued, emit } = setup({ aiDecisions: true, commandText: true })
    emit('history:ai', ai({ id: 8, decision: 'edited', finalCommand: 'rm -rf ./dist' }))
    expect(queued[0]!.draft.command).toBe('rm -rf ./dist')
  })

  it('reports how commands from AI suggestions ended, and not typed ones', () => {
    const { queued, emit } = setup({ aiRunOutcomes: true })
    emit('history:ai', ai({}))
    emit('history:recorded', run({}))
    emit('history:recorded', run({ aiRequestId: null, command: 'ls' }))
    emit('history:recorded', run({ source: 'bash' }))
    expect(queued).toEqual([
      {
        team: 'acme',
        draft: {
          kind: 'command.run',
          exitCode: 1,
          durationMs: 30,
          model: 'qwen2.5-coder-1.5b-q8_0.gguf',
        },
      },
    ])
  })

  it('keeps what reached the server in a private log and reads it back after a restart', () => {
    const first = setup({})
    const event: ClientEvent = {
      id: 'e-1-aaaaaaaa',
      kind: 'command.run',
      ts: 5,
      team: 'acme',
      exitCode: 0,
    }
    first.t.noteSent([event])
    const path = join(first.dir, 'sent-events.jsonl')
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(first.t.view()).toMatchObject({
      teams: [{ team: 'acme', server: 'http://127.0.0.1:4455', setting: { chosen: true } }],
      sent: [{ team: 'acme', event }],
    })
    // A torn last line (a crash while writing) does not lose the rest.
    writeFileSync(path, readFileSync(path, 'utf8') + '{"at":1,"te')
    const again = setup({}, path)
    expect(again.t.view().sent.map((s) => s.event)).toEqual([event])
  })

  it('never replaces a log it cannot read', () => {
    const { dir } = setup({})
    // Something that is not a readable file where the log belongs (as root, permissions do not
    // stop reads; a directory does).
    const path = join(dir, 'not-a-file.jsonl')
    mkdirSync(path)
    writeFileSync(join(path, 'precious'), 'x')
    const t = setup({}, path).t
    t.noteSent([{ id: 'e-2-aaaaaaaa', kind: 'command.run', ts: 1, team: 'acme' }])
    expect(statSync(path).isDirectory()).toBe(true)
    expect(readFileSync(join(path, 'precious'), 'utf8')).toBe('x')
    expect(t.view().sent).toHaveLength(1)
  })
})
