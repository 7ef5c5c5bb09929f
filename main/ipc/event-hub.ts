import type { EventName, Events } from '../../contract'

/**
 * Which client (window or browser tab) an event is for: a client id, `null` for none (a terminal
 * no page is attached to), `undefined` for every client. In-process listeners (history) see every
 * event; transports deliver it only to its audience.
 */
export type Audience = string | null | undefined

export type EventListener = <E extends EventName>(
  event: E,
  payload: Events[E],
  audience: Audience,
) => void

/**
 * Services emit typed events here; each transport subscribes once and forwards them to its
 * windows or sockets. Listeners that throw are isolated from each other and from the emitter.
 */
export class EventHub {
  private readonly listeners = new Set<EventListener>()

  emit<E extends EventName>(event: E, payload: Events[E], audience?: Audience): void {
    for (const listener of this.listeners) {
      try {
        listener(event, payload, audience)
      } catch (err) {
        console.error(`[cmdai] event listener for ${event} failed:`, err)
      }
    }
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}
