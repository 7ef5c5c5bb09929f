import { randomUUID } from 'node:crypto'
import { MAX_EVENTS_PER_REQUEST, type ClientEvent } from '../../contract/sync'
import { CmdaiError } from '../../contract/errors'
import { redactSecrets } from '../safety/secrets'
import type { LibraryStore } from './store'
import { postEvents, type TeamEndpoint } from './team-http'

/**
 * Client events for the team's audit log (runs of shared patterns, approvals), queued in the
 * library database first and posted to the server's events endpoint when it can be reached. The
 * server records each event id once, so a replay after a crash or a lost answer is harmless.
 */
export type EventDraft = Omit<ClientEvent, 'id' | 'ts' | 'team'>

const RETRY_MS = 5_000
/** An event the server keeps refusing as invalid is dropped after this many tries. */
const MAX_ATTEMPTS = 20

export class EventQueue {
  private timer: NodeJS.Timeout | null = null
  private sending: Promise<void> | null = null
  private stopped = false

  constructor(
    private readonly store: LibraryStore,
    private readonly endpoint: (team: string) => TeamEndpoint | null,
    /** Told exactly what reached the server (the app shows members what it sent). */
    private readonly onSent?: (events: ClientEvent[]) => void,
  ) {}

  /** Stores the event (redacted); resolves once it is queued durably. */
  async add(team: string, draft: EventDraft): Promise<string> {
    const endpoint = this.endpoint(team)
    if (!endpoint) throw new CmdaiError('not_found', `Not a member of team ${team} here`)
    const event: ClientEvent = {
      ...draft,
      ...(draft.command !== undefined ? { command: redactSecrets(draft.command).text } : {}),
      ...(draft.reason !== undefined ? { reason: redactSecrets(draft.reason).text } : {}),
      id: randomUUID(),
      ts: Date.now(),
      team,
    }
    await this.store.enqueueEvent({
      id: event.id,
      server: endpoint.server,
      team,
      body: JSON.stringify(event),
    })
    this.schedule(0)
    return event.id
  }

  schedule(ms = RETRY_MS): void {
    if (this.stopped || this.timer) return
    this.timer = setTimeout(() => {
      this.timer = null
      this.flush().catch((err: unknown) => {
        if (!this.stopped) console.error('[cmdai] could not send queued team events:', err)
      })
    }, ms)
    this.timer.unref?.()
  }

  /** Posts what is queued; keeps what could not be delivered for the next try. */
  flush(): Promise<void> {
    this.sending ??= this.send().finally(() => {
      this.sending = null
    })
    return this.sending
  }

  private async send(): Promise<void> {
    if (this.stopped) return
    const queued = await this.store.queuedEvents(2_000)
    const groups = new Map<string, typeof queued>()
    for (const q of queued) {
      const key = `${q.server}\u0000${q.team}`
      groups.set(key, [...(groups.get(key) ?? []), q])
    }
    let left = false
    for (const list of groups.values()) {
      const endpoint = this.endpoint(list[0]!.team)
      if (!endpoint) {
        left = true
        continue
      }
      for (let i = 0; i < list.length; i += MAX_EVENTS_PER_REQUEST) {
        const batch = list.slice(i, i + MAX_EVENTS_PER_REQUEST)
        try {
          const sent = batch.map((q) => JSON.parse(q.body) as ClientEvent)
          await postEvents(endpoint, sent)
          await this.store.dropEvents(batch.map((q) => q.id))
          this.onSent?.(sent)
        } catch (err) {
          left = true
          const message = err instanceof Error ? err.message : String(err)
          await this.store.eventFailed(
            batch.map((q) => q.id),
            message,
          )
          // Refused as invalid again and again: drop it rather than block the queue forever.
          if (err instanceof CmdaiError && err.code === 'invalid_input') {
            const dead = batch.filter((q) => q.attempts + 1 >= MAX_ATTEMPTS).map((q) => q.id)
            if (dead.length)
              console.error(
                `[cmdai] dropping ${dead.length} event(s) the team server keeps refusing: ${message}`,
              )
            await this.store.dropEvents(dead)
          }
          break
        }
      }
    }
    if (left || queued.length === 2_000) this.schedule()
  }

  /** Sends nothing more; resolves once a send in flight has finished (so the store can close). */
  stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    return this.sending ? this.sending.catch(() => undefined) : Promise.resolve()
  }
}
