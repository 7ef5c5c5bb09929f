import type { CmdaiBridge, EventName, Events, Result } from '../../../contract'
import type { ServerFrame } from '../../../contract/transport'
import { WS_PATH } from '../../../contract/transport'

export type ConnectionState = 'connecting' | 'open' | 'closed'

export interface SocketBridge extends CmdaiBridge {
  readonly state: ConnectionState
  onState(listener: (state: ConnectionState) => void): () => void
}

/**
 * Browser mode's implementation of the contract over one WebSocket to `cmdai serve`. The token
 * travels as the HttpOnly cookie the server set when the page was opened with `?token=`.
 */
export function createSocketBridge(url = defaultSocketUrl()): SocketBridge {
  const socket = new WebSocket(url)
  let state: ConnectionState = 'connecting'
  let nextId = 1
  const pending = new Map<number, (result: Result<unknown>) => void>()
  const outbox: string[] = []
  const listeners = new Map<string, Set<(payload: unknown) => void>>()
  const stateListeners = new Set<(state: ConnectionState) => void>()

  const setState = (next: ConnectionState) => {
    state = next
    for (const listener of stateListeners) listener(next)
  }

  socket.addEventListener('open', () => {
    setState('open')
    for (const frame of outbox.splice(0)) socket.send(frame)
  })
  socket.addEventListener('close', () => {
    setState('closed')
    for (const resolve of pending.values()) {
      resolve({
        ok: false,
        error: { code: 'unavailable', message: 'Lost the connection to cmdai' },
      })
    }
    pending.clear()
  })
  socket.addEventListener('message', (message) => {
    let frame: ServerFrame
    try {
      frame = JSON.parse(String(message.data)) as ServerFrame
    } catch {
      return
    }
    if (frame.t === 'res') {
      pending.get(frame.id)?.(frame.result as Result<unknown>)
      pending.delete(frame.id)
    } else if (frame.t === 'evt') {
      for (const listener of listeners.get(frame.name) ?? []) listener(frame.payload)
    } else {
      console.error('cmdai server:', frame.error.message)
    }
  })

  return {
    get state() {
      return state
    },
    onState(listener) {
      stateListeners.add(listener)
      return () => stateListeners.delete(listener)
    },
    invoke(channel, args) {
      if (state === 'closed') {
        return Promise.resolve({
          ok: false,
          error: { code: 'unavailable', message: 'Not connected to cmdai' },
        })
      }
      const id = nextId++
      const frame = JSON.stringify({ t: 'req', id, channel, args })
      return new Promise((resolve) => {
        pending.set(id, resolve as (result: Result<unknown>) => void)
        if (state === 'open') socket.send(frame)
        else outbox.push(frame)
      })
    },
    on<E extends EventName>(event: E, listener: (payload: Events[E]) => void) {
      const set = listeners.get(event) ?? new Set()
      listeners.set(event, set)
      const wrapped = listener as (payload: unknown) => void
      set.add(wrapped)
      return () => {
        set.delete(wrapped)
      }
    },
  }
}

function defaultSocketUrl(): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:'
  return `${scheme}//${location.host}${WS_PATH}`
}
