import { connect, type Socket } from 'node:net'
import type { Channel, EventName, Events, RequestArgs, RequestResult, Result } from '../../contract'
import { CmdaiError, isErrorCode } from '../../contract/errors'
import { controlPaths } from './paths'
import { lstatOrNull, readPrivateFile } from './private-files'
import {
  CONTROL_PROTOCOL,
  LineReader,
  type ControlClientFrame,
  type ControlClientInfo,
  type ControlInfo,
  type ControlServerFrame,
} from './protocol'

/** A connection to the running app's services (see main/control/server.ts). */
export interface ControlClient {
  /** The app's pid, version and host (`electron` or `browser`). */
  readonly app: { pid: number; version: string; host: string }
  /** True once the connection is gone (the app quit); calls then fail with `unavailable`. */
  readonly closed: boolean
  /** Calls a contract channel; resolves with its value or throws a CmdaiError. */
  call<C extends Channel>(
    channel: C,
    args: RequestArgs<C>,
    options?: { signal?: AbortSignal },
  ): Promise<RequestResult<C>>
  /** Subscribes to an event stream of the app. */
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void
  close(): void
}

export interface ConnectOptions {
  client: ControlClientInfo
  /**
   * How long the handshake may take once connected (default 5 s). An app that accepts the
   * connection but does not answer in time is busy (e.g. opening its database), not absent: that
   * is a `timeout` error, never "no app".
   */
  timeoutMs?: number
}

const MAX_RESPONSE_BYTES = 512 * 1024 * 1024
/** Connecting to a Unix socket is local: a listening app accepts at once (the kernel does). */
const CONNECT_TIMEOUT_MS = 2_000

/**
 * Connects to the app running on this data dir, or resolves null when none runs (no control.json,
 * its process gone, or nothing listening). Files that are not safely ours (a link, another user's,
 * readable by others) are refused with an error rather than trusted.
 */
export async function connectToApp(
  dataDir: string,
  options: ConnectOptions,
): Promise<ControlClient | null> {
  const paths = controlPaths(dataDir)
  let info: ControlInfo
  try {
    info = parseInfo(readPrivateFile(paths.info))
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return null
    if (err instanceof CmdaiError) throw err
    if (code === 'ELOOP') {
      throw new CmdaiError('forbidden', `Refusing to use ${paths.info}: it is a symbolic link`)
    }
    // Half-written by an app starting right now, or garbage: treat as not running.
    return null
  }
  if (!processAlive(info.pid)) return null
  if (process.platform !== 'win32') {
    const stat = lstatOrNull(paths.socket)
    if (!stat) return null
    if (stat.isSymbolicLink() || !stat.isSocket()) {
      throw new CmdaiError('forbidden', `Refusing to use ${paths.socket}: it is not a socket`)
    }
    if (process.getuid && stat.uid !== process.getuid()) {
      throw new CmdaiError('forbidden', `Refusing to use ${paths.socket}: another user owns it`)
    }
  }
  const socket = await open(paths.socket, CONNECT_TIMEOUT_MS)
  if (!socket) return null
  return handshake(socket, info.token, options)
}

function parseInfo(text: string): ControlInfo {
  const raw = JSON.parse(text) as Partial<ControlInfo>
  if (typeof raw.pid !== 'number' || typeof raw.token !== 'string') {
    throw new Error('control.json is incomplete')
  }
  return raw as ControlInfo
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function open(path: string, timeoutMs: number): Promise<Socket | null> {
  return new Promise((resolve) => {
    const socket = connect(path)
    const timer = setTimeout(() => {
      socket.destroy()
      resolve(null)
    }, timeoutMs)
    socket.once('connect', () => {
      clearTimeout(timer)
      resolve(socket)
    })
    socket.once('error', () => {
      clearTimeout(timer)
      socket.destroy()
      resolve(null)
    })
  })
}

function handshake(
  socket: Socket,
  token: string,
  options: ConnectOptions,
): Promise<ControlClient | null> {
  const pending = new Map<
    number,
    { resolve: (r: Result<unknown>) => void; reject: (e: unknown) => void }
  >()
  const listeners = new Map<string, Set<(payload: unknown) => void>>()
  let nextId = 1
  let closedWith: CmdaiError | null = null

  const write = (f: ControlClientFrame) => {
    if (!socket.destroyed) socket.write(`${JSON.stringify(f)}\n`)
  }

  return new Promise((resolve, reject) => {
    let welcomed = false
    const timeoutMs = options.timeoutMs ?? 5_000
    const timer = setTimeout(() => {
      closedWith = new CmdaiError(
        'timeout',
        `The cmdai app is running but did not answer within ${timeoutMs / 1000} s (busy starting?); try again`,
      )
      reject(closedWith)
      socket.destroy()
    }, timeoutMs)

    const onFrame = (f: ControlServerFrame) => {
      if (f.t === 'welcome') {
        welcomed = true
        clearTimeout(timer)
        resolve(client({ pid: f.pid, version: f.version, host: f.host }))
      } else if (f.t === 'res') {
        const waiter = pending.get(f.id)
        pending.delete(f.id)
        waiter?.resolve(f.result)
      } else if (f.t === 'evt') {
        for (const listener of listeners.get(f.name) ?? []) listener(f.payload)
      } else if (f.t === 'error') {
        closedWith = new CmdaiError(
          isErrorCode(f.error.code) ? f.error.code : 'internal',
          `The app refused the connection: ${f.error.message}`,
        )
        if (!welcomed) {
          clearTimeout(timer)
          reject(closedWith)
        }
      }
    }
    const reader = new LineReader(MAX_RESPONSE_BYTES, (line) => {
      try {
        onFrame(JSON.parse(line) as ControlServerFrame)
      } catch {
        socket.destroy()
      }
    })
    socket.on('data', (data: Buffer) => {
      if (!reader.push(data)) socket.destroy()
    })
    socket.on('error', () => socket.destroy())
    socket.on('close', () => {
      clearTimeout(timer)
      if (!welcomed) return resolve(null)
      const error = closedWith ?? new CmdaiError('unavailable', 'The cmdai app went away')
      for (const waiter of pending.values()) waiter.reject(error)
      pending.clear()
    })
    write({ t: 'hello', protocol: CONTROL_PROTOCOL, token, client: options.client })
  })

  function client(app: ControlClient['app']): ControlClient {
    return {
      app,
      get closed() {
        return socket.destroyed
      },
      call(channel, args, callOptions = {}) {
        if (socket.destroyed) {
          return Promise.reject(closedWith ?? new CmdaiError('unavailable', 'Not connected'))
        }
        const id = nextId++
        const signal = callOptions.signal
        return new Promise((resolve, reject) => {
          if (signal?.aborted) return reject(new CmdaiError('cancelled', 'Cancelled'))
          const onAbort = () => {
            write({ t: 'cancel', id })
            pending.delete(id)
            reject(new CmdaiError('cancelled', 'Cancelled'))
          }
          signal?.addEventListener('abort', onAbort, { once: true })
          pending.set(id, {
            resolve: (result) => {
              signal?.removeEventListener('abort', onAbort)
              if (result.ok) resolve(result.value as never)
              else reject(new CmdaiError(result.error.code, result.error.message))
            },
            reject: (err) => {
              signal?.removeEventListener('abort', onAbort)
              reject(err)
            },
          })
          write({ t: 'req', id, channel, args })
        })
      },
      on(event, listener) {
        let set = listeners.get(event)
        if (!set) {
          set = new Set()
          listeners.set(event, set)
          write({ t: 'sub', events: [event] })
        }
        const fn = listener as (payload: unknown) => void
        set.add(fn)
        return () => set.delete(fn)
      },
      close() {
        socket.end()
        socket.destroy()
      },
    }
  }
}
