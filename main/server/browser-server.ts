import { randomBytes, timingSafeEqual } from 'node:crypto'
import { existsSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import { z } from 'zod'
import { TOKEN_COOKIE, WS_PATH, type ServerFrame } from '../../contract/transport'
import type { Services } from '../services'
import { rendererIndex, serveFile } from './static-files'

export interface BrowserServerOptions {
  services: Services
  /** The built renderer (`out/renderer`). */
  staticDir: string
  port?: number
  /** The token pages must present (`cmdai serve` keeps one in the data dir); random if absent. */
  token?: string
  /** How often sockets are pinged; one missed pong closes the socket. */
  heartbeatMs?: number
}

export interface BrowserServer {
  url: string
  port: number
  token: string
  close(): Promise<void>
}

const HOST = '127.0.0.1'
const MAX_FRAME_BYTES = 2 * 1024 * 1024
const HEARTBEAT_MS = 15_000

const clientFrame = z
  .object({
    t: z.literal('req'),
    id: z.number().int().nonnegative(),
    channel: z.string().max(100),
    args: z.unknown(),
  })
  .strict()

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

/**
 * Browser mode: the renderer and the same services behind HTTP + WebSocket on loopback only.
 * Every request needs the per-launch token (in the URL once, then an HttpOnly cookie), a Host
 * header naming this server (DNS rebinding) and, for the socket, our own Origin.
 */
export async function startBrowserServer(options: BrowserServerOptions): Promise<BrowserServer> {
  const token = options.token ?? randomBytes(24).toString('hex')
  const { services, staticDir } = options
  if (!existsSync(rendererIndex(staticDir))) {
    throw new Error(`The renderer is not built (${rendererIndex(staticDir)} is missing)`)
  }
  let port = 0
  let clientSeq = 0

  const hostAllowed = (req: IncomingMessage): boolean => {
    const host = req.headers.host ?? ''
    return host === `${HOST}:${port}` || host === `localhost:${port}`
  }
  const tokenMatches = (candidate: string | undefined | null): boolean => {
    if (!candidate) return false
    const a = Buffer.from(candidate)
    const b = Buffer.from(token)
    return a.length === b.length && timingSafeEqual(a, b)
  }
  const requestToken = (req: IncomingMessage, url: URL): string | null =>
    url.searchParams.get('token') ?? readCookie(req.headers.cookie, TOKEN_COOKIE)

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', `http://${HOST}`)
    if (!hostAllowed(req)) return refuse(res, 421, 'Unexpected Host header')
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'Method not allowed')
    const queryToken = url.searchParams.get('token')
    if (queryToken !== null) {
      if (!tokenMatches(queryToken)) return refuse(res, 403, 'Wrong token')
      // Trade the URL token for a cookie and drop it from the address bar and history.
      res.writeHead(303, {
        'Set-Cookie': `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`,
        Location: url.pathname,
        'Cache-Control': 'no-store',
      })
      return res.end()
    }
    if (!tokenMatches(readCookie(req.headers.cookie, TOKEN_COOKIE))) {
      return refuse(res, 403, 'Missing token: open the URL that `cmdai serve` printed')
    }
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY)
    res.setHeader('X-Content-Type-Options', 'nosniff')
    res.setHeader('Referrer-Policy', 'no-referrer')
    if (url.pathname === WS_PATH) return refuse(res, 426, 'Upgrade required')
    if (!serveFile(res, staticDir, url.pathname)) refuse(res, 404, 'Not found')
  })

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES })
  /** Open sockets and the client id each one speaks for. */
  const sockets = new Map<WebSocket, string>()

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', `http://${HOST}`)
    const origin = req.headers.origin
    const originOk = origin === `http://${HOST}:${port}` || origin === `http://localhost:${port}`
    if (
      url.pathname !== WS_PATH ||
      !hostAllowed(req) ||
      !originOk ||
      !tokenMatches(requestToken(req, url))
    ) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
  })

  // Events go to their audience only (a terminal's output to the page that shows it).
  const unsubscribe = services.events.subscribe((name, payload, audience) => {
    if (audience === null) return
    let frame: string | null = null
    for (const [ws, clientId] of sockets) {
      if (audience !== undefined && audience !== clientId) continue
      frame ??= JSON.stringify({ t: 'evt', name, payload } satisfies ServerFrame)
      if (ws.readyState === ws.OPEN) ws.send(frame)
    }
  })

  // A page whose connection died without a close (sleep, a dropped SSH tunnel) is noticed by the
  // missing pong, so that its shells' grace period starts.
  const alive = new WeakSet<WebSocket>()
  const heartbeat = setInterval(() => {
    for (const ws of sockets.keys()) {
      if (!alive.has(ws)) {
        ws.terminate()
        continue
      }
      alive.delete(ws)
      ws.ping()
    }
  }, options.heartbeatMs ?? HEARTBEAT_MS)
  heartbeat.unref()

  wss.on('connection', (ws: WebSocket) => {
    const clientId = `browser-${++clientSeq}`
    sockets.set(ws, clientId)
    alive.add(ws)
    ws.on('pong', () => alive.add(ws))
    const send = (frame: ServerFrame) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame))
    }
    ws.on('message', (raw, isBinary) => {
      if (isBinary) {
        send({
          t: 'error',
          error: { code: 'invalid_input', message: 'Binary frames are not accepted' },
        })
        return
      }
      let parsed: z.infer<typeof clientFrame>
      try {
        parsed = clientFrame.parse(JSON.parse(raw.toString()))
      } catch {
        send({ t: 'error', error: { code: 'invalid_input', message: 'Malformed request frame' } })
        return
      }
      void services.router
        .dispatch(parsed.channel, parsed.args, { clientId })
        .then((result) => send({ t: 'res', id: parsed.id, result }))
    })
    ws.on('close', () => {
      sockets.delete(ws)
      services.clientGone(clientId)
    })
    ws.on('error', () => ws.terminate())
  })

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(options.port ?? 0, HOST, () => {
        server.off('error', reject)
        resolve()
      })
    })
  } catch (err) {
    // The port is taken (or not ours): leave nothing behind, so the caller can try another.
    unsubscribe()
    clearInterval(heartbeat)
    wss.close()
    throw err
  }
  port = (server.address() as AddressInfo).port

  return {
    url: `http://${HOST}:${port}/?token=${token}`,
    port,
    token,
    async close() {
      unsubscribe()
      clearInterval(heartbeat)
      for (const ws of sockets.keys()) ws.terminate()
      wss.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

function refuse(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-store',
  })
  res.end(`${message}\n`)
}

function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return null
}
