import type { EventName, Events } from '../../contract'

export type EventListener = <E extends EventName>(event: E, payload: Events[E]) => void

/**
 * Services emit typed events here; each transport subscribes once and forwards them to its
 * windows or sockets. Listeners that throw are isolated from each other and from the emitter.
 */
export class EventHub {
  private readonly listeners = new Set<EventListener>()

  emit<E extends EventName>(event: E, payload: Events[E]): void {
    for (const listener of this.listeners) {
      try {
        listener(event, payload)
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
