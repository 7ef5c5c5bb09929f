import type { AuditCheckpoint, AuditRecord } from '../../contract/sync'
import type { KeyRing } from '../auth/keys'
import type { AuditLog } from './audit-log'
import { signCheckpoint } from './chain'

/**
 * Signs chain heads with the audit key: stored every N records or T milliseconds (when the chain
 * grew), and on demand for `/audit/checkpoint`, so an app can keep the newest head it saw and a
 * later truncation of the log shows.
 */
export class Checkpointer {
  private readonly sinceLast = new Map<string, number>()
  private readonly lastSigned = new Map<string, AuditCheckpoint>()
  private timer: NodeJS.Timeout | null = null

  constructor(
    private readonly audit: AuditLog,
    private readonly keys: KeyRing,
    private readonly options: {
      everyRecords: number
      everyMs: number
      onError: (err: unknown) => void
    },
  ) {}

  start(): void {
    this.timer = setInterval(
      () => void this.flush().catch(this.options.onError),
      this.options.everyMs,
    )
    this.timer.unref()
  }

  /** Counts appended records; a team past the threshold gets a stored checkpoint. */
  noteAppended(records: AuditRecord[]): void {
    const due: string[] = []
    for (const r of records) {
      const n = (this.sinceLast.get(r.team) ?? 0) + 1
      this.sinceLast.set(r.team, n)
      if (n === this.options.everyRecords) due.push(r.team)
    }
    for (const team of due) void this.store(team).catch(this.options.onError)
  }

  /** A freshly signed checkpoint of the team's current head (not stored). */
  async current(team: string): Promise<AuditCheckpoint | null> {
    const head = await this.audit.head(team)
    if (head.seq === 0) return null
    const last = this.lastSigned.get(team)
    if (
      last &&
      last.seq === head.seq &&
      last.hash === head.hash &&
      last.kid === this.keys.active('audit').kid
    )
      return last
    const cp = signCheckpoint(this.keys.active('audit'), team, head)
    this.lastSigned.set(team, cp)
    return cp
  }

  /** Signs and stores the head of every team that grew since its last stored checkpoint. */
  async flush(): Promise<void> {
    for (const [team, n] of [...this.sinceLast]) if (n > 0) await this.store(team)
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  private async store(team: string): Promise<void> {
    this.sinceLast.set(team, 0)
    const cp = await this.current(team)
    if (cp) await this.audit.saveCheckpoint(cp)
  }
}
