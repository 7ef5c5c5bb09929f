import { randomBytes, timingSafeEqual } from 'node:crypto'
import { chmodSync, unlinkSync } from 'node:fs'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { z } from 'zod'
import { CmdaiError } from '../../contract/errors'
import type { EventHub } from '../ipc/event-hub'
import type { Router } from '../ipc/router'
import { controlPaths } from './paths'
import { ensurePrivateDir, lstatOrNull, readPrivateFile, writePrivateFile } from './private-files'
import { CONTROL_PROTOCOL, LineReader, type ControlInfo, type ControlServerFrame } from './protocol'

export interface ControlServerOptions {
  router: Router
  events: EventHub
  /** Release what a client owned (same as a closed window). */
  clientGone?: (clientId: string) => void
  dataDir: string
  version: string
  host: 'electron' | 'browser'
  /** Limits, lowered by tests. */
  maxLineBytes?: number
  maxClients?: number
  maxInFlight?: number
  helloTimeoutMs?: number
}

export interface ControlServer {
  readonly socket: string
  readonly info: string
  close(): Promise<void>
}

/** Channels a control client may not call: the user's terminals, settings and approvals. */
const DENIED_CHANNELS = [/^pty:/, /^terminal:/, /^agent:decide$/, /^settings:update$/]
/** Events never sent to control clients (terminal output is the user's, and heavy). */
const DENIED_EVENTS = [/^pty:/, /^terminal:/]

const helloFrame = z
  .object({
    t: z.literal('hello'),
    protocol: z.number().int(),
    token: z.string().max(200),
    client: z.object({ name: z.string().min(1).max(100), version: z.string().max(50).optional() }),
  })
  .strict()
const clientFrame = z.discriminatedUnion('t', [
  z
    .object({
      t: z.literal('req'),
      id: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
      channel: z.string().max(100),
      args: z.unknown(),
    })
    .strict(),
  z.object({ t: z.literal('cancel'), id: z.number().int().nonnegative() }).strict(),
  z.object({ t: z.literal('sub'), events: z.array(z.string().max(100)).max(100) }).strict(),
])

/**
 * The running app's control socket: local programs of this user (the CLI, `cmdai mcp`) reach the
 * app's services through the same router, validation and error envelopes as the renderer. Only
 * this user can connect (the socket is 0600 in the user's data dir) and every connection must
 * first present the per-launch token from control.json (0600), which also covers platforms that
 * ignore socket file permissions.
 *
 * A socket left behind by a crashed app is removed; one that answers belongs to a running app and
 * is left alone (this one then refuses to start). A symbolic link or any other file at either path
 * is refused, never followed or replaced.
 */
export async function startControlServer(options: ControlServerOptions): Promise<ControlServer> {
  const paths = controlPaths(options.dataDir)
  ensurePrivateDir(options.dataDir)
  if (paths.socketDir !== options.dataDir) ensurePrivateDir(paths.socketDir, { tighten: true })
  await clearStaleSocket(paths.socket)

  const token = randomBytes(32).toString('hex')
  const info: ControlInfo = {
    pid: process.pid,
    socket: paths.socket,
    token,
    version: options.version,
    host: options.host,
    startedAt: Date.now(),
  }
  writePrivateFile(paths.info, JSON.stringify(info))

  const maxLine = options.maxLineBytes ?? 8 * 1024 * 1024
  const maxClients = options.maxClients ?? 64
  const maxInFlight = options.maxInFlight ?? 64
  const helloTimeoutMs = options.helloTimeoutMs ?? 5_000
  const clients = new Set<Socket>()
  let seq = 0

  const server: Server = createServer((socket) => {
    if (clients.size >= maxClients) {
      socket.end(frame({ t: 'error', error: { code: 'unavailable', message: 'Too many clients' } }))
      return
    }
    clients.add(socket)
    const clientId = `control-${++seq}`
    const inFlight = new Map<number, AbortController>()
    const subscribed = new Set<string>()
    let authed = false
    let unsubscribe: (() => void) | null = null

    const send = (f: ControlServerFrame) => {
      if (socket.destroyed) return
      socket.write(frame(f))
      // A client that stops reading must not make the app buffer without bound.
      if (socket.writableLength > 64 * 1024 * 1024) socket.destroy()
    }
    const fail = (code: string, message: string) => {
      send({ t: 'error', error: { code, message } })
      socket.end()
    }
    const helloTimer = setTimeout(() => fail('timeout', 'No hello'), helloTimeoutMs)

    const onLine = (line: string) => {
      let raw: unknown
      try {
        raw = JSON.parse(line)
      } catch {
        return fail('invalid_input', 'Malformed frame (not JSON)')
      }
      if (!authed) {
        const hello = helloFrame.safeParse(raw)
        if (!hello.success) return fail('invalid_input', 'Expected a hello frame first')
        if (hello.data.protocol !== CONTROL_PROTOCOL) {
          return fail('invalid_input', `Protocol ${hello.data.protocol} is not ${CONTROL_PROTOCOL}`)
        }
        if (!sameToken(hello.data.token, token)) return fail('forbidden', 'Wrong token')
        authed = true
        clearTimeout(helloTimer)
        unsubscribe = options.events.subscribe((name, payload, audience) => {
          if (!subscribed.has(name) || DENIED_EVENTS.some((re) => re.test(name))) return
          if (audience !== undefined && audience !== clientId) return
          send({ t: 'evt', name, payload })
        })
        send({
          t: 'welcome',
          protocol: CONTROL_PROTOCOL,
          pid: process.pid,
          version: options.version,
          host: options.host,
        })
        return
      }
      const parsed = clientFrame.safeParse(raw)
      if (!parsed.success) return fail('invalid_input', 'Malformed frame')
      const f = parsed.data
      if (f.t === 'cancel') return inFlight.get(f.id)?.abort()
      if (f.t === 'sub') {
        for (const name of f.events) subscribed.add(name)
        return
      }
      if (inFlight.has(f.id)) return fail('invalid_input', `Request id ${f.id} is already in use`)
      if (inFlight.size >= maxInFlight) {
        const error = { code: 'unavailable' as const, message: 'Too many requests in flight' }
        return send({ t: 'res', id: f.id, result: { ok: false, error } })
      }
      if (DENIED_CHANNELS.some((re) => re.test(f.channel))) {
        const error = {
          code: 'forbidden' as const,
          message: `${f.channel} is only available to the app's own windows`,
        }
        return send({ t: 'res', id: f.id, result: { ok: false, error } })
      }
      const controller = new AbortController()
      inFlight.set(f.id, controller)
      void options.router
        .dispatch(f.channel, f.args, {
          clientId,
          signal: controller.signal,
          transport: 'control',
        })
        .then((result) => {
          inFlight.delete(f.id)
          send({ t: 'res', id: f.id, result })
        })
    }

    const reader = new LineReader(maxLine, (line) => {
      if (!socket.destroyed) onLine(line)
    })
    socket.on('data', (data: Buffer) => {
      if (!reader.push(data)) fail('invalid_input', `Frame larger than ${maxLine} bytes`)
    })
    socket.on('error', () => socket.destroy())
    socket.on('close', () => {
      clearTimeout(helloTimer)
      clients.delete(socket)
      unsubscribe?.()
      for (const controller of inFlight.values()) controller.abort()
      inFlight.clear()
      if (authed) options.clientGone?.(clientId)
    })
  })

  await listenPrivately(server, paths.socket)
  const removeOnExit = () => removeIfOurs(paths.socket, paths.info, token)
  process.on('exit', removeOnExit)

  let closed: Promise<void> | null = null
  return {
    socket: paths.socket,
    info: paths.info,
    close() {
      closed ??= (async () => {
        process.off('exit', removeOnExit)
        for (const socket of clients) socket.destroy()
        await new Promise<void>((resolve) => server.close(() => resolve()))
        removeIfOurs(paths.socket, paths.info, token)
      })()
      return closed
    },
  }
}

function frame(f: ControlServerFrame): string {
  return `${JSON.stringify(f)}\n`
}

function sameToken(candidate: string, token: string): boolean {
  const a = Buffer.from(candidate)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Removes a socket nobody answers on; refuses a live one, a link or any other file. */
async function clearStaleSocket(path: string): Promise<void> {
  if (process.platform === 'win32') return
  const stat = lstatOrNull(path)
  if (!stat) return
  if (stat.isSymbolicLink()) {
    throw new CmdaiError('forbidden', `Refusing to use ${path}: it is a symbolic link`)
  }
  if (!stat.isSocket()) {
    throw new CmdaiError('conflict', `${path} exists and is not a socket; move it away`)
  }
  if (await answers(path)) {
    throw new CmdaiError(
      'conflict',
      `Another cmdai app is already running on this data directory (${path} answers)`,
    )
  }
  unlinkSync(path)
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path)
    const done = (live: boolean) => {
      probe.destroy()
      resolve(live)
    }
    probe.once('connect', () => done(true))
    probe.once('error', () => done(false))
    probe.setTimeout(1_000, () => done(true))
  })
}

/**
 * Binds with a umask that leaves the socket 0600 from its first instant, then checks it. The
 * umask is process-wide, so it is restored right after the (synchronous) bind, before any other
 * code runs.
 */
async function listenPrivately(server: Server, path: string): Promise<void> {
  const listening = new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.once('listening', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const previous = process.platform === 'win32' ? null : process.umask(0o177)
  try {
    server.listen({ path, exclusive: true })
  } finally {
    if (previous !== null) process.umask(previous)
  }
  await listening
  if (process.platform !== 'win32') chmodSync(path, 0o600)
}

/** On shutdown: remove the socket and info file, unless a newer app has replaced them. */
function removeIfOurs(socket: string, info: string, token: string): void {
  try {
    const current = JSON.parse(readPrivateFile(info)) as Partial<ControlInfo>
    if (current.token !== token) return
    unlinkSync(info)
  } catch {
    return
  }
  try {
    if (process.platform !== 'win32' && lstatOrNull(socket)?.isSocket()) unlinkSync(socket)
  } catch {
    // Gone already.
  }
}
