import type { CmdaiBridge, EventName, Events, Result } from '../../../contract'
import type { ServerFrame } from '../../../contract/transport'
import { WS_PATH } from '../../../contract/transport'

/**
 * `connecting`: the first connection; `open`; `reconnecting`: the connection dropped (the server
 * restarted, the network or SSH tunnel went away) and is being retried; `refused`: the server is
 * there but no longer accepts this page's token (`cmdai serve --new-token`).
 */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'refused' | 'closed'

export interface SocketBridge extends CmdaiBridge {
  readonly state: ConnectionState
  onState(listener: (state: ConnectionState) => void): () => void
  /** Stop reconnecting and close (tests, page teardown). */
  close(): void
}

export interface SocketBridgeOptions {
  url?: string
  /** Delays between reconnection attempts; the last one repeats. */
  backoffMs?: number[]
  /** Asks whether the server refuses this page (HTTP 403 on the page itself). */
  probe?(): Promise<'ok' | 'refused' | 'down'>
}

const BACKOFF_MS = [250, 500, 1000, 2000]

/**
 * Browser mode's implementation of the contract over a WebSocket to `cmdai serve`, reconnected
 * whenever it drops. The token travels as the HttpOnly cookie the server set when the page was
 * opened with `?token=`; `cmdai serve` keeps its token across restarts, so the same cookie works
 * again. Requests in flight when the connection drops fail with `unavailable`; event listeners
 * stay registered across reconnections.
 */
export function createSocketBridge(options: SocketBridgeOptions = {}): SocketBridge {
  const url = options.url ?? defaultSocketUrl()
  const backoff = options.backoffMs ?? BACKOFF_MS
  const probe = options.probe ?? probePage
  let socket: WebSocket | null = null
  let state: ConnectionState = 'connecting'
  let attempts = 0
  let stopped = false
  let retryTimer: ReturnType<typeof setTimeout> | null = null
  let nextId = 1
  const pending = new Map<number, (result: Result<unknown>) => void>()
  const outbox: string[] = []
  const listeners = new Map<string, Set<(payload: unknown) => void>>()
  const stateListeners = new Set<(state: ConnectionState) => void>()

  const setState = (next: ConnectionState) => {
    if (state === next) return
    state = next
    for (const listener of stateListeners) listener(next)
  }

  const failPending = (message: string) => {
    for (const resolve of pending.values()) {
      resolve({ ok: false, error: { code: 'unavailable', message } })
    }
    pending.clear()
  }

  const connect = () => {
    const ws = new WebSocket(url)
    socket = ws
    ws.addEventListener('open', () => {
      attempts = 0
      setState('open')
      for (const frame of outbox.splice(0)) ws.send(frame)
    })
    // A failed connection also closes; the close handler retries.
    ws.addEventListener('error', () => undefined)
    ws.addEventListener('close', () => {
      if (socket !== ws) return
      socket = null
      failPending('Lost the connection to cmdai')
      if (stopped) return setState('closed')
      if (state === 'open' || state === 'connecting') setState('reconnecting')
      scheduleRetry()
    })
    ws.addEventListener('message', (message) => {
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
  }

  const scheduleRetry = () => {
    const delay = backoff[Math.min(attempts, backoff.length - 1)] ?? 1000
    attempts++
    retryTimer = setTimeout(() => {
      retryTimer = null
      if (stopped) return
      // A refused upgrade looks like any other failure; the page itself says whether it is 403.
      void probe().then((answer) => {
        if (stopped) return
        if (answer === 'refused') setState('refused')
        else if (state === 'refused') setState('reconnecting')
        connect()
      })
    }, delay)
  }

  connect()

  return {
    get state() {
      return state
    },
    onState(listener) {
      stateListeners.add(listener)
      return () => stateListeners.delete(listener)
    },
    close() {
      stopped = true
      if (retryTimer) clearTimeout(retryTimer)
      socket?.close()
      setState('closed')
    },
    invoke(channel, args) {
      if (state !== 'open' && state !== 'connecting') {
        return Promise.resolve({
          ok: false,
          error: { code: 'unavailable', message: 'Not connected to cmdai; reconnecting' },
        })
      }
      const id = nextId++
      const frame = JSON.stringify({ t: 'req', id, channel, args })
      return new Promise((resolve) => {
        pending.set(id, resolve as (result: Result<unknown>) => void)
        if (state === 'open' && socket?.readyState === WebSocket.OPEN) socket.send(frame)
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

async function probePage(): Promise<'ok' | 'refused' | 'down'> {
  try {
    const res = await fetch('/', { method: 'HEAD', cache: 'no-store', credentials: 'same-origin' })
    return res.status === 403 ? 'refused' : 'ok'
  } catch {
    return 'down'
  }
}

function defaultSocketUrl(): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:'
  return `${scheme}//${location.host}${WS_PATH}`
}
