import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ErrorCode } from '../contract/errors'
import {
  HTTP_PATHS,
  eventsRequestSchema,
  type ClientEvent,
  type EventsResponse,
} from '../contract/sync'
import type { AuditDraft } from './audit/chain'
import type { AuthResult } from './auth/authenticator'
import type { Principal } from './rooms/connection'
import type { CommitEntry } from './rooms/committer'
import type { Redact } from './rooms/summary'
import type { Storage } from './storage/storage'
import type { SyncMetrics } from './metrics'
import type { KeyRing } from './auth/keys'
import type { Checkpointer } from './audit/checkpointer'

/** What the HTTP routes need from the server. */
export interface HttpContext {
  /** Tried first, in order (approvals, console). */
  extensions: Array<{
    handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean>
  }>
  storage: Storage
  keys: KeyRing
  metrics: SyncMetrics
  checkpointer: Checkpointer
  redact: Redact
  maxBodyBytes: number
  /** Readiness beyond storage (Redis, the last commit). */
  ready(): Promise<{ ok: boolean; detail: Record<string, unknown> }>
  authenticate(token: string | null, team: string, ip: string, via: string): Promise<AuthResult>
  commit(entry: CommitEntry): Promise<void>
  clientIp(req: IncomingMessage): string
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message)
  }
}

const STATUS_OF_CLOSE: Record<number, number> = { 4401: 401, 4402: 401, 4406: 401 }

function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  })
  res.end(text)
}

/** Routes the plain HTTP requests; answers 404 for anything else. */
export async function handleHttp(
  ctx: HttpContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  try {
    const url = new URL(req.url ?? '/', 'http://localhost')
    for (const ext of ctx.extensions) if (await ext.handle(req, res, url)) return
    const route = `${req.method ?? 'GET'} ${url.pathname}`
    switch (route) {
      case `GET ${HTTP_PATHS.healthz}`:
        return send(res, 200, { status: 'ok' })
      case `GET ${HTTP_PATHS.readyz}`: {
        const r = await ctx.ready()
        return send(res, r.ok ? 200 : 503, { status: r.ok ? 'ready' : 'not ready', ...r.detail })
      }
      case `GET ${HTTP_PATHS.metrics}`:
        return send(
          res,
          200,
          await ctx.metrics.registry.metrics(),
          ctx.metrics.registry.contentType,
        )
      case `GET ${HTTP_PATHS.keys}`:
        return send(res, 200, ctx.keys.jwks())
      case `GET ${HTTP_PATHS.auditCheckpoint}`:
        return await checkpoint(ctx, req, res, url)
      case `POST ${HTTP_PATHS.events}`:
        return await events(ctx, req, res)
      default:
        throw new HttpError(404, 'not_found', 'no such endpoint')
    }
  } catch (err) {
    if (err instanceof HttpError)
      return send(res, err.status, { code: err.code, message: err.message })
    return send(res, 503, {
      code: 'unavailable',
      message: 'the server could not complete the request',
    })
  }
}

function bearer(req: IncomingMessage): string | null {
  const h = req.headers.authorization
  if (!h) return null
  const m = /^Bearer\s+(\S+)$/i.exec(h)
  return m ? m[1]! : null
}

async function signIn(
  ctx: HttpContext,
  req: IncomingMessage,
  team: string,
  via: string,
): Promise<Principal> {
  const auth = await ctx.authenticate(bearer(req), team, ctx.clientIp(req), via)
  if (!auth.ok) throw new HttpError(STATUS_OF_CLOSE[auth.code] ?? 403, 'forbidden', auth.reason)
  return auth.principal
}

async function checkpoint(
  ctx: HttpContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const team = url.searchParams.get('team') ?? ''
  await signIn(ctx, req, team, 'audit-checkpoint')
  const cp = await ctx.checkpointer.current(team)
  if (!cp) throw new HttpError(404, 'not_found', 'the team has no audit records yet')
  send(res, 200, cp)
}

async function readBody(req: IncomingMessage, max: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > max) throw new HttpError(413, 'invalid_input', `body over ${max} bytes`)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > max) throw new HttpError(413, 'invalid_input', `body over ${max} bytes`)
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

async function events(ctx: HttpContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? ''))
    throw new HttpError(415, 'invalid_input', 'send application/json')
  const text = await readBody(req, ctx.maxBodyBytes)
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new HttpError(400, 'invalid_input', 'body is not JSON')
  }
  // The team to sign in to comes from the events; all must name the token's team.
  const first = (body as { events?: Array<{ team?: unknown }> } | null)?.events?.[0]?.team
  const principal = await signIn(ctx, req, typeof first === 'string' ? first : '', 'events')
  const parsed = eventsRequestSchema.safeParse(body)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new HttpError(
      400,
      'invalid_input',
      `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`,
    )
  }
  const list = dedupe(parsed.data.events)
  if (list.some((e) => e.team !== principal.team))
    throw new HttpError(403, 'forbidden', 'every event must be for the token’s team')
  const redacted = list.map((e) => redactEvent(e, ctx.redact))
  let response: EventsResponse = { accepted: 0, duplicates: 0 }
  await ctx.commit({
    run: async (tx) => {
      const fresh = await ctx.storage.insertEvents(
        principal.team,
        redacted.map((e) => ({
          id: e.id,
          user: principal.user,
          kind: e.kind,
          ts: e.ts,
          event: JSON.stringify(e),
        })),
        tx,
      )
      response = { accepted: fresh.size, duplicates: parsed.data.events.length - fresh.size }
      return redacted.filter((e) => fresh.has(e.id)).map((e) => eventDraft(principal, e))
    },
  })
  ctx.metrics.events.inc({ result: 'accepted' }, response.accepted)
  ctx.metrics.events.inc({ result: 'duplicate' }, response.duplicates)
  send(res, 200, response)
}

function dedupe(events: ClientEvent[]): ClientEvent[] {
  const seen = new Set<string>()
  return events.filter((e) => !seen.has(e.id) && seen.add(e.id))
}

/** The app redacts before sending; the server redacts again (an old or foreign client may not). */
function redactEvent(e: ClientEvent, redact: Redact): ClientEvent {
  return {
    ...e,
    ...(e.command !== undefined ? { command: redact(e.command) } : {}),
    ...(e.reason !== undefined ? { reason: redact(e.reason) } : {}),
  }
}

function eventDraft(p: Principal, e: ClientEvent): AuditDraft {
  const { team, ...data } = e
  return {
    team,
    kind: 'client.event',
    actor: p.user,
    role: p.role,
    ...(e.library ? { room: `${team}/${e.library}` } : {}),
    data,
  }
}
