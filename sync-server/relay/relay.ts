/** Relays committed updates and awareness between server instances sharing rooms. */
export interface Relay {
  /** Starts receiving a room's messages; resolves once the subscription is active. */
  subscribe(room: string, onMessage: (kind: RelayKind, payload: Uint8Array) => void): Promise<void>
  unsubscribe(room: string): Promise<void>
  /** Fire and forget: delivery failures are logged; a reconnect triggers `onResync`. */
  publish(room: string, kind: RelayKind, payload: Uint8Array): void
  /** Called after the relay lost messages (reconnected): rooms reload from storage. */
  onResync(listener: () => void): void
  ready(): boolean
  close(): Promise<void>
}

export type RelayKind = 'update' | 'awareness'
