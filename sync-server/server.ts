import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import pino, { type Logger } from 'pino'
import { WebSocketServer, type RawData, type WebSocket } from 'ws'
import {
  CLOSE,
  SERVER_AUDIT_CHAIN,
  SYNC_WS_PATH,
  lowerRole,
  parseRoomName,
  roleAtLeast,
  type AuditRecord,
  type Role,
  type RoomRef,
} from '../contract/sync'
import type { Risk, ShellDialect } from '../contract/safety'
import { analyzeCommand, isSafetyReady } from '../main/safety/analyze'
import { redactSecrets } from '../main/safety/secrets'
import type { AuditLog } from './audit/audit-log'
import type { AuditDraft } from './audit/chain'
import { Checkpointer } from './audit/checkpointer'
import { authenticate, type AuthResult } from './auth/authenticator'
import type { KeyRing } from './auth/keys'
import { DEFAULT_LIMITS, DEFAULT_TIMINGS, type Limits, type Timings } from './config'
import { handleHttp } from './http'
import { createMetrics } from './metrics'
import type { Relay } from './relay/relay'
import { Committer, type CommitEntry } from './rooms/committer'
import { Connection, type Principal } from './rooms/connection'
import { MalformedMessage, decodeMessage } from './rooms/protocol'
import type { Room } from './rooms/room'
import { RoomLoadError } from './rooms/room'
import type { RoomHost } from './rooms/room-host'
import { RoomManager } from './rooms/rooms'
import type { Assess, Redact } from './rooms/summary'
import type { Storage } from './storage/storage'

export interface SyncServerOptions {
  storage: Storage
  /** Signing keys (tokens and audit checkpoints), see `KeyRing.open`. */
  keys: KeyRing
  audit: AuditLog
  /** Redis relay for several instances; none for a single one. */
  relay?: Relay | null
  logger?: Logger
  limits?: Partial<Limits>
  timings?: Partial<Timings>
  /** Take the client address from X-Forwarded-For (behind a reverse proxy). */
  trustProxy?: boolean
  /** Secret redaction for audit records (default: the app's own, from main/safety). */
  redact?: Redact
  /** Rates pattern commands in audit records (default: main/safety's engine once initialised). */
  assess?: Assess
  /** More HTTP endpoints (approvals, the admin console), built on the server's sign-in and commit. */
  extensions?: Array<(deps: ExtensionDeps) => HttpExtension>
}

/** What an HTTP extension gets from the server. */
export interface ExtensionDeps {
  storage: Storage
  /** The audit log (browse, verify) and the keys (checkpoint signatures, token minting). */
  audit: AuditLog
  keys: KeyRing
  checkpointer: Checkpointer
  /** Open connections (sessions), and a re-check after revoking or changing roles. */
  connections(): Connection[]
  recheckConnections(): Promise<void>
  logger: Logger
  maxBodyBytes: number
  /** Signs a bearer token in for a team (audits failures like every other sign-in). */
  authenticate(token: string | null, team: string, ip: string, via: string): Promise<AuthResult>
  /** Group commit: statements and audit records in one transaction. */
  commit(entry: CommitEntry): Promise<void>
  clientIp(req: IncomingMessage): string
  redact: Redact
  /** The safety engine's rating, when it is loaded. */
  assess(command: string, shell?: ShellDialect): Risk | null
  /** Called with the audit records of each commit, once durable (webhooks); returns an unsubscribe. */
  onAudit(listener: (records: AuditRecord[]) => void): () => void
}

export interface HttpExtension {
  /** Answers the request and returns true, or returns false when the path is not its own. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean>
  close?(): void | Promise<void>
  /**
   * Just-in-time elevation: a role above the member's own that `user` holds in `team` now, and
   * until when. The server applies it to sign-ins and to open connections at each re-check.
   */
  elevatedRole?(team: string, user: string): { role: Role; until: number } | null
  /** Runs before each periodic re-check of open connections (expiries, what `elevatedRole` reads). */
  beforeRecheck?(): Promise<void>
}

export interface SyncServer {
  listen(port: number, host?: string): Promise<{ port: number; host: string }>
  /** Stops accepting, closes clients (1001), commits what is pending, signs a last checkpoint. */
  close(): Promise<void>
  /** Appends audit records through the group commit (admin operations). */
  commit(entry: CommitEntry): Promise<void>
  /** Re-checks open connections now (after a revocation or a role change). */
  recheckConnections(): Promise<void>
  readonly metrics: ReturnType<typeof createMetrics>
  readonly checkpointer: Checkpointer
  /** Open connections (tests and the admin console). */
  connections(): Connection[]
  rooms(): Room[]
}

/** Auth failures audited per client address per minute; beyond it they are only counted. */
const AUTH_FAILURE_AUDITS_PER_MINUTE = 30

/**
 * The team sync server: the y-websocket protocol (y-protocols sync and awareness) at
 * `/sync/<team>/<library>`, with every connection signed in before the upgrade completes, roles
 * enforced per document, updates stored (group commit, with their audit records) before they are
 * relayed, and an HTTP API for client events, audit checkpoints, health and metrics.
 */
export function createSyncServer(options: SyncServerOptions): SyncServer {
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits }
  const timings: Timings = { ...DEFAULT_TIMINGS, ...options.timings }
  const logger = options.logger ?? pino({ level: 'info' })
  const metrics = createMetrics()
  const redact: Redact = options.redact ?? ((text) => redactSecrets(text).text)
  const assess: Assess =
    options.assess ?? ((command) => (isSafetyReady() ? analyzeCommand(command).risk : null))
  const { storage, keys, audit } = options
  const relay = options.relay ?? null
  let lastCommitError: string | null = null
  let stopping = false
  const auditListeners = new Set<(records: AuditRecord[]) => void>()

  const checkpointer = new Checkpointer(audit, keys, {
    everyRecords: timings.checkpointEveryRecords,
    everyMs: timings.checkpointEveryMs,
    onError: (err) => logger.error({ err: (err as Error).message }, 'checkpoint failed'),
  })
  const committer = new Committer(storage, audit, {
    onCommit: ({ records, ms }) => {
      lastCommitError = null
      metrics.commitSeconds.observe(ms / 1000)
      metrics.auditRecords.inc(records.length)
      checkpointer.noteAppended(records)
      for (const listener of auditListeners) {
        try {
          listener(records)
        } catch (err) {
          logger.warn({ err: (err as Error).message }, 'audit listener failed')
        }
      }
    },
    onError: (err, entries) => {
      lastCommitError = (err as Error).message
      metrics.commitFailures.inc()
      logger.error({ err: lastCommitError, entries }, 'commit failed; its changes were refused')
    },
  })
  const record = (drafts: AuditDraft[]) => {
    committer.commit({ drafts }).catch(() => {})
  }
  const host: RoomHost = {
    storage,
    committer,
    relay,
    metrics,
    logger,
    limits,
    timings,
    redact,
    assess,
    failRoom: (room, reason, offender) => rooms.fail(room, reason, offender),
    record,
  }
  const rooms = new RoomManager(host)
  const conns = new Set<Connection>()
  const failureBudget = new Map<string, { windowStart: number; count: number }>()

  const clientIp = (req: IncomingMessage): string => {
    if (options.trustProxy) {
      const fwd = req.headers['x-forwarded-for']
      const first = (Array.isArray(fwd) ? fwd[0] : fwd)?.split(',')[0]?.trim()
      if (first) return first.slice(0, 64)
    }
    return req.socket.remoteAddress ?? 'unknown'
  }

  async function signIn(
    token: string | null,
    team: string,
    ip: string,
    via: string,
  ): Promise<AuthResult> {
    const result = await authenticate(keys, storage, token, team, ip)
    if (result.ok && result.principal.memberRole)
      result.principal = withElevation(result.principal, result.principal.memberRole)
    if (!result.ok) {
      metrics.authFailures.inc({ reason: String(result.code) })
      const budget = failureBudget.get(ip) ?? { windowStart: Date.now(), count: 0 }
      if (Date.now() - budget.windowStart > 60_000)
        Object.assign(budget, { windowStart: Date.now(), count: 0 })
      budget.count++
      failureBudget.set(ip, budget)
      if (budget.count <= AUTH_FAILURE_AUDITS_PER_MINUTE) {
        // Into the team's chain when the team exists (the failure concerns it), else the server's.
        const chain = (await storage.getTeam(team).catch(() => null)) ? team : SERVER_AUDIT_CHAIN
        record([
          {
            team: chain,
            kind: 'auth.failure',
            actor: result.user ?? 'anonymous',
            data: {
              reason: result.reason,
              code: result.code,
              ip,
              via,
              team: team.slice(0, 100),
              ...(result.tokenTeam && result.tokenTeam !== team
                ? { tokenTeam: result.tokenTeam }
                : {}),
            },
          },
        ])
      } else
        logger.warn(
          { ip, reason: result.reason },
          'auth failure not audited (over the per-address budget)',
        )
    }
    return result
  }

  const extensions: HttpExtension[] = (options.extensions ?? []).map((make) =>
    make({
      storage,
      audit,
      keys,
      checkpointer,
      connections: () => [...conns],
      recheckConnections: () => recheckConnections(),
      logger,
      maxBodyBytes: limits.maxHttpBodyBytes,
      authenticate: signIn,
      commit: (entry) => committer.commit(entry),
      clientIp,
      redact,
      assess: (command, shell) =>
        isSafetyReady() ? analyzeCommand(command, { shell }).risk : null,
      onAudit: (listener) => {
        auditListeners.add(listener)
        return () => auditListeners.delete(listener)
      },
    }),
  )

  /**
   * The effective role: the lower of the token's and the member's, raised by an active elevation
   * unless the token was minted below the member's role (it stays as narrow as it was minted).
   */
  function withElevation(p: Principal, memberRole: Role): Principal {
    const base = lowerRole(p.tokenRole, memberRole)
    let elevation: { role: Role; until: number } | null = null
    if (roleAtLeast(p.tokenRole, memberRole))
      for (const ext of extensions) elevation ??= ext.elevatedRole?.(p.team, p.user) ?? null
    const { elevatedUntil: _previous, ...rest } = p
    void _previous
    if (elevation && !roleAtLeast(base, elevation.role))
      return { ...rest, role: elevation.role, memberRole, elevatedUntil: elevation.until }
    return { ...rest, role: base, memberRole }
  }

  const httpServer: Server = createServer((req, res) => {
    void handleHttp(
      {
        extensions,
        storage,
        keys,
        metrics,
        checkpointer,
        redact,
        maxBodyBytes: limits.maxHttpBodyBytes,
        ready: async () => {
          const detail: Record<string, unknown> = { storage: 'ok' }
          let ok = !stopping
          try {
            await storage.ping()
          } catch (err) {
            ok = false
            detail.storage = (err as Error).message
          }
          if (relay) {
            detail.redis = relay.ready() ? 'ok' : 'down'
            ok &&= relay.ready()
          }
          if (lastCommitError) {
            ok = false
            detail.lastCommitError = lastCommitError
          }
          return { ok, detail }
        },
        authenticate: signIn,
        commit: (entry) => committer.commit(entry),
        clientIp,
      },
      req,
      res,
    )
  })
  const wss = new WebSocketServer({
    noServer: true,
    // Above the limit so that the limit answers with its own close code (4413) and reason.
    maxPayload: Math.max(limits.maxMessageBytes * 2, limits.maxMessageBytes + (1 << 20)),
    perMessageDeflate: false,
  })

  httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy())
    void onUpgrade(req, socket, head).catch((err: unknown) => {
      logger.error({ err: (err as Error).message }, 'upgrade failed')
      socket.destroy()
    })
  })

  /** Completes the upgrade only to deliver a close code the stock client understands. */
  function refuseSocket(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    code: number,
    reason: string,
  ): void {
    metrics.closes.inc({ code: String(code) })
    wss.handleUpgrade(req, socket, head, (ws) => ws.close(code, reason))
  }

  async function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (stopping) return refuseSocket(req, socket, head, CLOSE.goingAway, 'server shutting down')
    if (!url.pathname.startsWith(SYNC_WS_PATH + '/')) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      return
    }
    let name: string
    try {
      name = decodeURIComponent(url.pathname.slice(SYNC_WS_PATH.length + 1))
    } catch {
      name = ''
    }
    const ref = parseRoomName(name)
    if (!ref)
      return refuseSocket(req, socket, head, CLOSE.malformed, 'not a room: use <team>/<library>')
    const header = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1]
    const token = url.searchParams.get('token') ?? header ?? null
    const ip = clientIp(req)
    const auth = await signIn(token, ref.team, ip, 'websocket')
    if (!auth.ok) return refuseSocket(req, socket, head, auth.code, auth.reason)
    const open = [...conns].filter((c) => c.principal.jti === auth.principal.jti).length
    if (open >= limits.maxRoomsPerToken)
      return refuseSocket(
        req,
        socket,
        head,
        CLOSE.tooManyRooms,
        `at most ${limits.maxRoomsPerToken} rooms per token`,
      )
    wss.handleUpgrade(req, socket, head, (ws) => void accept(ws, ref, auth.principal))
  }

  async function accept(ws: WebSocket, ref: RoomRef, principal: Principal): Promise<void> {
    const conn = new Connection(ws, ref, principal, limits)
    conns.add(conn)
    metrics.connections.set(conns.size)
    const early: RawData[] = []
    let room: Room | null = null
    ws.on('message', (data: RawData) => {
      if (room) onMessage(conn, room, data)
      else early.push(data)
    })
    ws.on('close', (code: number) => {
      conns.delete(conn)
      metrics.connections.set(conns.size)
      room?.leave(conn)
      const { user, role, team } = conn.principal
      record([
        {
          team,
          kind: 'connection.close',
          actor: user,
          role,
          room: ref.name,
          data: {
            connection: conn.id,
            code: conn.closeInfo?.code ?? code,
            ...(conn.closeInfo ? { reason: conn.closeInfo.reason } : {}),
            seconds: Math.round((Date.now() - conn.openedAt) / 1000),
            refusedWrites: conn.refusedWrites,
          },
        },
      ])
    })
    ws.on('error', () => ws.terminate())
    const base = {
      team: principal.team,
      actor: principal.user,
      role: principal.role,
      room: ref.name,
    }
    try {
      // Sign-in and connection are on the record before the client sees anything.
      await committer.commit({
        drafts: [
          {
            ...base,
            kind: 'auth.success',
            data: { via: 'websocket', jti: principal.jti, ip: principal.ip },
          },
          {
            ...base,
            kind: 'connection.open',
            data: { connection: conn.id, readOnly: !conn.canWrite },
          },
        ],
      })
      const loaded = await rooms.open(ref)
      if (conn.closed || ws.readyState !== ws.OPEN) return
      room = loaded
      room.join(conn)
      for (const data of early.splice(0)) onMessage(conn, room, data)
    } catch (err) {
      const code = err instanceof RoomLoadError ? err.code : CLOSE.storageUnavailable
      metrics.closes.inc({ code: String(code) })
      logger.warn({ room: ref.name, err: (err as Error).message }, 'connection refused')
      conn.close(
        code,
        code === CLOSE.unsupportedSchema
          ? (err as Error).message
          : 'storage unavailable; retry later',
      )
    }
  }

  function closeConn(conn: Connection, code: number, reason: string): void {
    metrics.closes.inc({ code: String(code) })
    conn.close(code, reason)
  }

  function onMessage(conn: Connection, room: Room, raw: RawData): void {
    if (conn.closed) return
    const data = Array.isArray(raw)
      ? Buffer.concat(raw)
      : Buffer.isBuffer(raw)
        ? raw
        : Buffer.from(raw as ArrayBuffer)
    if (data.length > limits.maxMessageBytes)
      return closeConn(conn, CLOSE.tooLarge, `message over ${limits.maxMessageBytes} bytes`)
    if (!conn.takeMessageToken())
      return closeConn(
        conn,
        CLOSE.rateLimited,
        `over ${limits.messagesPerSecond} messages per second`,
      )
    let msg
    try {
      msg = decodeMessage(new Uint8Array(data.buffer, data.byteOffset, data.length))
    } catch (err) {
      return closeConn(
        conn,
        CLOSE.malformed,
        err instanceof MalformedMessage ? err.message : 'malformed message',
      )
    }
    switch (msg.type) {
      case 'sync-step1':
        return room.syncStep1(conn, msg.stateVector)
      case 'update':
        return room.clientUpdate(conn, msg.update)
      case 'awareness':
        if (msg.entries.some((e) => e.json.length > limits.maxAwarenessBytes))
          return closeConn(
            conn,
            CLOSE.awarenessTooLarge,
            `awareness state over ${limits.maxAwarenessBytes} bytes`,
          )
        return room.clientAwareness(conn, msg.entries)
      case 'query-awareness':
        return room.queryAwareness(conn)
      case 'ignored':
        return
    }
  }

  /** Closes connections whose token was revoked, member removed or token expired; applies role changes. */
  async function recheckConnections(): Promise<void> {
    for (const ext of extensions)
      await ext
        .beforeRecheck?.()
        .catch((err: unknown) =>
          logger.warn({ err: (err as Error).message }, 'extension re-check failed'),
        )
    const open = [...conns].filter((c) => !c.closed)
    if (open.length === 0) return
    const status = await storage.tokenStatus([...new Set(open.map((c) => c.principal.jti))])
    const byJti = new Map(status.map((s) => [s.jti, s]))
    const now = Date.now()
    for (const conn of open) {
      const s = byJti.get(conn.principal.jti)
      if (!s || s.revokedAt !== null) closeConn(conn, CLOSE.revoked, 'token revoked')
      else if (!s.memberRole) closeConn(conn, CLOSE.notMember, 'no longer a member of the team')
      else if (conn.principal.expiresAt <= now) closeConn(conn, CLOSE.expired, 'token expired')
      else {
        const next = withElevation(conn.principal, s.memberRole)
        if (
          next.role !== conn.principal.role ||
          next.elevatedUntil !== conn.principal.elevatedUntil
        ) {
          conn.principal = next
          conn.sendServerState()
        }
      }
    }
  }

  const timers: NodeJS.Timeout[] = []
  const every = (ms: number, fn: () => Promise<void> | void) => {
    const t = setInterval(() => {
      Promise.resolve()
        .then(fn)
        .catch((err: unknown) =>
          logger.warn({ err: (err as Error).message }, 'background task failed'),
        )
    }, ms)
    t.unref()
    timers.push(t)
  }

  return {
    metrics,
    checkpointer,
    connections: () => [...conns],
    rooms: () => rooms.list(),
    commit: (entry) => committer.commit(entry),
    recheckConnections,
    async listen(port, listenHost = '127.0.0.1') {
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', reject)
        httpServer.listen(port, listenHost, () => {
          httpServer.off('error', reject)
          resolve()
        })
      })
      every(timings.revocationPollMs, recheckConnections)
      every(timings.serverStateRenewMs, () => {
        for (const c of conns) if (!c.closed) c.sendServerState()
      })
      every(Math.max(1_000, Math.floor(timings.idleUnloadMs / 2)), () => rooms.unloadIdle())
      every(60_000, () => {
        const cutoff = Date.now() - 60_000
        for (const [ip, b] of failureBudget) if (b.windowStart < cutoff) failureBudget.delete(ip)
      })
      checkpointer.start()
      const address = httpServer.address() as AddressInfo
      record([
        {
          team: SERVER_AUDIT_CHAIN,
          kind: 'server.start',
          actor: 'system',
          data: { port: address.port },
        },
      ])
      logger.info(
        { port: address.port, host: listenHost, storage: storage.kind, relay: !!relay },
        'listening',
      )
      return { port: address.port, host: listenHost }
    },
    async close() {
      if (stopping) return
      stopping = true
      for (const t of timers) clearInterval(t)
      checkpointer.stop()
      for (const ext of extensions) await ext.close?.()
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()))
      for (const c of conns) closeConn(c, CLOSE.goingAway, 'server shutting down')
      await rooms.closeAll()
      record([{ team: SERVER_AUDIT_CHAIN, kind: 'server.stop', actor: 'system', data: {} }])
      // connection.close records are queued as sockets finish closing; give them a moment.
      await waitUntil(() => conns.size === 0, 2_000)
      await committer.stop()
      await checkpointer
        .flush()
        .catch((err: unknown) =>
          logger.error({ err: (err as Error).message }, 'final checkpoint failed'),
        )
      for (const ws of wss.clients) ws.terminate()
      httpServer.closeAllConnections()
      await closed
      logger.info('stopped')
    },
  }
}

async function waitUntil(probe: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  while (!probe() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
}
