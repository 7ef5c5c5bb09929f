import { closeSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs'
import type { HistoryAiRequest, HistoryCommand } from '../../contract/history'
import type { TelemetryView } from '../../contract/library'
import type { ClientEvent } from '../../contract/sync'
import type { TelemetrySnapshot } from '../../contract/telemetry'
import type { EventDraft } from './event-queue'

/**
 * What this app reports to each team's server beyond the audit trail, as the team chose
 * (`contract/telemetry.ts`, kept in the team's policy document): what the member did with an AI
 * suggestion, and how commands from AI suggestions ended. Commands go only when the team asked
 * for them, redacted (the event queue redacts every command before it is stored); the words of
 * the request, command output and file contents never go. Everything that reached a server is
 * kept (the newest `KEEP`, in a 0600 file beside the library database) so the member can see
 * exactly what was sent.
 */
export interface TelemetryDeps {
  teams(): string[]
  setting(team: string): TelemetrySnapshot
  server(team: string): string | null
  /** Queues a client event for a team (the library's event queue). */
  add(team: string, draft: EventDraft): Promise<unknown>
  /** The app's event bus (history events). */
  subscribe(listener: (event: string, payload: unknown) => void): () => void
  /** The sent log (JSON lines). */
  logPath: string
}

const KEEP = 200
/** AI requests remembered to link a later run or decision to its model (bounded). */
const REMEMBER = 500

export class TeamTelemetry {
  private readonly sent: TelemetryView['sent'] = []
  /** AI request id -> what was reported for it (a decision is reported once). */
  private readonly requests = new Map<number, { model?: string; decided: boolean }>()
  private readonly unsubscribe: () => void
  private persist: boolean

  constructor(private readonly deps: TelemetryDeps) {
    this.persist = this.load()
    this.unsubscribe = deps.subscribe((event, payload) => {
      if (event === 'history:ai') this.onAi(payload as HistoryAiRequest)
      else if (event === 'history:recorded') this.onCommand(payload as HistoryCommand)
    })
  }

  stop(): void {
    this.unsubscribe()
  }

  /** The event queue reports what reached a server. */
  noteSent(events: ClientEvent[]): void {
    const at = Date.now()
    for (const event of events) this.sent.unshift({ at, team: event.team, event })
    this.sent.splice(KEEP)
    this.save()
  }

  view(): TelemetryView {
    return {
      teams: this.deps.teams().map((team) => ({
        team,
        server: this.deps.server(team) ?? '',
        setting: this.deps.setting(team),
      })),
      sent: [...this.sent],
    }
  }

  private onAi(row: HistoryAiRequest): void {
    const known = this.remember(row.id)
    if (row.model) known.model = modelName(row.model)
    if (!row.decision || known.decided) return
    known.decided = true
    const latency = row.timings?.totalMs
    for (const team of this.deps.teams()) {
      const { telemetry } = this.deps.setting(team)
      if (!telemetry.aiDecisions) continue
      const command = row.decision === 'edited' ? row.finalCommand : row.proposedCommand
      this.queue(team, {
        kind: 'ai.decision',
        decision: row.decision,
        ...(known.model ? { model: known.model } : {}),
        ...(typeof latency === 'number' && latency >= 0 ? { latencyMs: Math.round(latency) } : {}),
        ...(isRisk(row.risk) ? { risk: row.risk } : {}),
        ...(telemetry.commandText && command ? { command } : {}),
      })
    }
  }

  private onCommand(row: HistoryCommand): void {
    if (row.aiRequestId === null || row.source !== 'terminal') return
    const model = this.requests.get(row.aiRequestId)?.model
    for (const team of this.deps.teams()) {
      const { telemetry } = this.deps.setting(team)
      if (!telemetry.aiRunOutcomes) continue
      this.queue(team, {
        kind: 'command.run',
        ...(row.exitCode !== null ? { exitCode: row.exitCode } : {}),
        ...(row.durationMs !== null ? { durationMs: row.durationMs } : {}),
        ...(model ? { model } : {}),
        ...(telemetry.commandText ? { command: row.command } : {}),
      })
    }
  }

  private queue(team: string, draft: EventDraft): void {
    void this.deps
      .add(team, draft)
      .catch((err: unknown) => console.error('[cmdai] queueing a team event failed:', err))
  }

  private remember(id: number): { model?: string; decided: boolean } {
    let known = this.requests.get(id)
    if (!known) {
      known = { decided: false }
      this.requests.set(id, known)
      if (this.requests.size > REMEMBER) this.requests.delete(this.requests.keys().next().value!)
    }
    return known
  }

  /** Reads the log; false (memory only from now on) when it exists but cannot be read. */
  private load(): boolean {
    let text: string
    try {
      text = readFileSync(this.deps.logPath, 'utf8')
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ENOENT'
    }
    for (const line of text.split('\n')) {
      if (!line) continue
      try {
        const entry = JSON.parse(line) as TelemetryView['sent'][number]
        if (typeof entry.at === 'number' && typeof entry.team === 'string' && entry.event)
          this.sent.push(entry)
      } catch {
        // A torn line (a crash while writing) is skipped.
      }
    }
    this.sent.splice(KEEP)
    return true
  }

  private save(): void {
    if (!this.persist) return
    const tmp = `${this.deps.logPath}.tmp`
    try {
      const fd = openSync(tmp, 'w', 0o600)
      try {
        writeSync(fd, this.sent.map((e) => JSON.stringify(e)).join('\n') + '\n')
      } finally {
        closeSync(fd)
      }
      renameSync(tmp, this.deps.logPath)
    } catch (err) {
      this.persist = false
      console.error('[cmdai] the sent-events log cannot be written:', (err as Error).message)
    }
  }
}

/** A model's name, never a path on this machine. */
function modelName(model: string): string {
  return (model.split(/[\\/]/).pop() ?? model).slice(0, 200)
}

function isRisk(r: string | null): r is 'safe' | 'moderate' | 'high' | 'critical' {
  return r === 'safe' || r === 'moderate' || r === 'high' || r === 'critical'
}
