import * as decoding from 'lib0/decoding'
import WebSocket from 'ws'
import { Awareness } from 'y-protocols/awareness'
import { WebsocketProvider } from 'y-websocket'
import type * as Y from 'yjs'
import type { LibrarySync } from '../../contract/library'
import {
  READ_ONLY_REASON,
  SYNC_WS_PATH,
  isPermanentClose,
  readServerState,
  type ServerAwarenessState,
} from '../../contract/sync'

/**
 * One document's connection to the team server through the stock y-websocket client: the token
 * as the `token` query parameter, reconnecting with backoff (the client's own), permanent closes
 * (4400-4499) turned into a `refused` state with the server's reason, the server's awareness
 * entry read for the role and the read-only flag, and refused writes counted.
 */
export interface SyncClientOptions {
  /** Base URL of the team server, http(s)://host:port. */
  server: string
  room: string
  token: string
  doc: Y.Doc
  /** Called whenever the state below changes. */
  onChange(state: LibrarySync): void
  /** The server answered this client's role/read-only state. */
  onServerState?(state: ServerAwarenessState): void
  maxBackoffMs?: number
}

const MESSAGE_AUTH = 2

export class SyncClient {
  readonly provider: WebsocketProvider
  readonly awareness: Awareness
  private state: LibrarySync = {
    state: 'connecting',
    readOnly: false,
    unsynced: false,
    refusedWrites: 0,
  }
  private online = true

  constructor(private readonly options: SyncClientOptions) {
    this.awareness = new Awareness(options.doc)
    this.provider = new WebsocketProvider(wsUrl(options.server), options.room, options.doc, {
      params: { token: options.token },
      // Node 20 has no global WebSocket; Electron's Node 22 has one, `ws` works in both.
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      awareness: this.awareness,
      maxBackoffTime: options.maxBackoffMs ?? 10_000,
      disableBc: true,
      connect: false,
    })
    // The server's `permission denied` (a read-only member's write): count it, say so.
    this.provider.messageHandlers[MESSAGE_AUTH] = (_encoder, decoder) => {
      const type = decoding.readVarUint(decoder)
      const reason = type === 0 ? decoding.readVarString(decoder) : 'permission denied'
      this.set({
        refusedWrites: this.state.refusedWrites + 1,
        readOnly: true,
        reason: reason || READ_ONLY_REASON,
      })
    }
    this.provider.on('status', ({ status }) => {
      if (!this.online) return
      if (status === 'connecting') this.set({ state: 'connecting' })
      else if (status === 'connected')
        this.set({ state: 'syncing', reason: undefined, code: undefined })
      else if (this.state.state !== 'refused') this.set({ state: 'offline' })
    })
    this.provider.on('sync', (synced) => {
      if (synced) this.set({ state: 'synced', unsynced: false, lastSyncedAt: Date.now() })
    })
    this.provider.on('connection-close', (event) => {
      if (!event || !this.online) return
      if (!isPermanentClose(event.code))
        this.set({ state: 'offline', reason: event.reason || `connection closed (${event.code})` })
    })
    this.provider.on('closed', ({ code, reason }) => {
      this.set({ state: 'refused', code, reason: reason || `refused (${code})` })
    })
    this.provider.on('connection-error', () => {
      if (this.online && this.state.state === 'connecting')
        this.set({ state: 'offline', reason: 'cannot reach the server' })
    })
    this.awareness.on('change', () => {
      const server = readServerState(this.awareness.getStates())
      if (!server) return
      if (server.readOnly !== this.state.readOnly || server.role !== this.state.role)
        this.set({ readOnly: server.readOnly, role: server.role, user: server.user })
      options.onServerState?.(server)
    })
    options.doc.on('update', this.onDocUpdate)
  }

  private readonly onDocUpdate = (_update: Uint8Array, origin: unknown) => {
    if (origin === this.provider) return
    if (this.state.state !== 'synced' && !this.state.unsynced) this.set({ unsynced: true })
  }

  get current(): LibrarySync {
    return { ...this.state }
  }

  /** Connects (or reconnects after `refused`, e.g. with a new token). */
  connect(): void {
    this.online = true
    if (this.state.state === 'refused')
      this.set({ state: 'connecting', reason: undefined, code: undefined })
    this.provider.connect()
  }

  /** A new token (a refreshed sign-in): reconnects with it when online. */
  setToken(token: string): void {
    this.provider.params = { ...this.provider.params, token }
    if (!this.online) return
    if (this.state.state === 'refused') return this.connect()
    this.provider.disconnect()
    this.provider.connect()
  }

  /** Goes offline on purpose: edits are kept and sent on `connect`. */
  disconnect(): void {
    this.online = false
    this.provider.disconnect()
    this.set({ state: 'offline', reason: 'offline (by choice)' })
  }

  get isOnline(): boolean {
    return this.online
  }

  destroy(): void {
    this.options.doc.off('update', this.onDocUpdate)
    this.provider.destroy()
    this.awareness.destroy()
  }

  private set(patch: Partial<LibrarySync>): void {
    const next = { ...this.state, ...patch }
    for (const key of Object.keys(next) as Array<keyof LibrarySync>)
      if (next[key] === undefined) delete next[key]
    this.state = next
    this.options.onChange(this.current)
  }
}

/** http(s)://host → ws(s)://host/sync */
export function wsUrl(server: string): string {
  const url = new URL(server)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  url.pathname = url.pathname.replace(/\/+$/, '') + SYNC_WS_PATH
  url.search = ''
  url.hash = ''
  return url.toString()
}
