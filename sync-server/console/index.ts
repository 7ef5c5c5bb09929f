import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  CONSOLE_COOKIE,
  CONSOLE_PATHS,
  CSRF_HEADER,
  type AuditVerifyView,
} from '../../contract/console'
import { createAdmin } from '../admin/admin'
import type { Principal } from '../rooms/connection'
import type { ExtensionDeps, HttpExtension } from '../server'
import { ConsoleError, isHttps, readCookies, readJson, sendError, sendJson, sendPage } from './http'
import { RateLimiter } from './rate-limit'
import { refreshRollupStatistics } from './analytics'
import { accessRoutes } from './routes/access'
import { approvalRoutes } from './routes/approvals'
import { auditRoutes } from './routes/audit'
import { insightRoutes } from './routes/insights'
import { identityRoutes } from './routes/identity'
import { libraryRoutes } from './routes/libraries'
import { memberRoutes, redeemInvite } from './routes/members'
import { policyRoutes } from './routes/policy'
import { ensureConsoleSchema } from './schema'
import {
  ANSWERED,
  matchPath,
  mayUse,
  type ConsoleOptions,
  type ConsoleServices,
  type Route,
} from './services'
import {
  csrfMatches,
  exchangeSigninCode,
  readSession,
  redirectIntoConsole,
  type ConsoleSessionRow,
} from './sessions'
import { serveStatic } from './static'
import { approvalNotice, auditNotices, verifyNotice } from './webhooks/notices'
import { signLink } from './webhooks/payloads'
import { Webhooks } from './webhooks/webhooks'
import { verifyTeam } from './verify'

export type { ConsoleOptions } from './services'

/** The console extension, with its route table (tests enumerate it). */
export interface AdminConsole extends HttpExtension {
  readonly routes: readonly Route[]
  readonly webhooks: Webhooks
  /** Verifies a team's audit chain now (and notifies webhooks of a failure). */
  verify(team: string): Promise<AuditVerifyView>
}

/**
 * The team admin console as a server extension:
 * `createSyncServer({ extensions: [(deps) => createConsole(deps, options)] })`. It serves the
 * built UI at `/admin/` and the API at `/admin/api/…`: every API call is signed in by the
 * session cookie, authorised by the route's area (`CONSOLE_ACCESS`), CSRF-checked when it
 * changes something, and audited by the change it makes.
 */
export function createConsole(deps: ExtensionDeps, options: ConsoleOptions = {}): AdminConsole {
  const now = options.now ?? (() => Date.now())
  const ready = ensureConsoleSchema(deps.storage)
  ready.catch((err: Error) => deps.logger.error({ err: err.message }, 'console tables failed'))
  const closers: Array<() => void> = []
  let lastOrigin: string | null = null
  const webhooks = new Webhooks(deps.storage, deps.logger, now, options.webhooks)
  let linkKey: Promise<Buffer> | null = null

  const services: ConsoleServices = {
    deps,
    options,
    now,
    sessions: { storage: deps.storage, commit: deps.commit, now },
    admin: (actor) =>
      createAdmin(
        {
          storage: deps.storage,
          keys: deps.keys,
          audit: deps.audit,
          commit: deps.commit,
          afterDirectoryChange: () => deps.recheckConnections(),
        },
        actor,
      ),
    approvals: () => options.approvals?.() ?? null,
    webhooks,
    publicUrl: (req) => {
      const configured =
        typeof options.publicUrl === 'function' ? options.publicUrl() : options.publicUrl
      if (configured) return configured.replace(/\/+$/, '')
      const host = req?.headers.host
      if (req && host && /^[A-Za-z0-9.:[\]-]{1,255}$/.test(host))
        lastOrigin = `${isHttps(req) ? 'https' : 'http'}://${host}`
      return lastOrigin ?? 'http://127.0.0.1:4455'
    },
    record: (drafts) => deps.commit({ drafts }),
    linkKey: () => (linkKey ??= loadLinkKey()),
    onClose: (fn) => closers.push(fn),
  }

  async function loadLinkKey(): Promise<Buffer> {
    await ready
    await deps.storage.sql.query(
      `INSERT INTO console_secrets (name, value, created_at) VALUES ('link-key', $1, $2)
       ON CONFLICT (name) DO NOTHING`,
      [randomBytes(32).toString('base64url'), now()],
    )
    const r = await deps.storage.sql.query<{ value: string }>(
      `SELECT value FROM console_secrets WHERE name = 'link-key'`,
    )
    return Buffer.from(r.rows[0]!.value, 'base64url')
  }

  const verifyState = new Map<string, boolean>()
  async function verify(team: string): Promise<AuditVerifyView> {
    const view = await verifyTeam(services, team)
    const wasOk = verifyState.get(team) ?? true
    verifyState.set(team, view.ok)
    // Once per failure, not at every periodic check while it stays broken.
    if (!view.ok && wasOk) await webhooks.notify(verifyNotice(team, view))
    return view
  }

  const routes: Route[] = [
    ...accessRoutes(services),
    ...memberRoutes(services),
    ...libraryRoutes(services),
    ...policyRoutes(services),
    ...approvalRoutes(services),
    ...auditRoutes(services, verify),
    ...insightRoutes(services),
    ...identityRoutes(services),
  ]

  // Webhooks: approvals (requested, decided), and what commits record (blocked, policy).
  const approvalLink = async (id: string, expiresAt: number): Promise<string> => {
    const path = `${CONSOLE_PATHS.approveLink}/${encodeURIComponent(id)}`
    return `${services.publicUrl()}${path}?exp=${expiresAt}&sig=${signLink(await services.linkKey(), path, expiresAt)}`
  }
  const notifyApproval = async (a: Parameters<typeof approvalNotice>[0]) => {
    const link = a.status === 'pending' ? await approvalLink(a.id, a.expiresAt) : null
    const notice = approvalNotice(a, link)
    if (notice) await webhooks.notify(notice)
  }
  let unsubscribeApprovals: (() => void) | null = null
  const hookApprovals = () => {
    if (unsubscribeApprovals) return
    const svc = services.approvals()
    if (svc)
      unsubscribeApprovals = svc.onChange((a) => {
        void ready.then(() => notifyApproval(a)).catch(logNotifyError)
      })
  }
  const logNotifyError = (err: Error) =>
    deps.logger.warn({ err: err.message }, 'webhook notice not queued')
  const unsubscribeAudit = deps.onAudit((records) => {
    const notices = auditNotices(records)
    if (notices.length === 0) return
    void ready
      .then(async () => {
        for (const n of notices) await webhooks.notify(n)
      })
      .catch(logNotifyError)
  })
  void ready.then(
    () => webhooks.start(),
    () => {},
  )

  // Periodic verification of the teams that asked to hear about a failure.
  const verifyEvery = options.verifyEveryMs ?? 3_600_000
  const verifyTimer =
    verifyEvery > 0
      ? setInterval(() => {
          void (async () => {
            const r = await deps.storage.sql.query<{ team: string }>(
              `SELECT DISTINCT team FROM console_webhooks WHERE enabled AND events LIKE '%audit.verify-failed%'`,
            )
            for (const { team } of r.rows) await verify(team)
          })().catch((err: Error) =>
            deps.logger.warn({ err: err.message }, 'periodic verify failed'),
          )
        }, verifyEvery)
      : null
  verifyTimer?.unref()

  // Planner statistics of the analytics rollups (PGlite has no autovacuum to keep them).
  const analyze = () =>
    refreshRollupStatistics(deps.storage.sql).catch((err: Error) =>
      deps.logger.warn({ err: err.message }, 'analytics statistics not refreshed'),
    )
  void ready.then(analyze, () => {})
  const analyzeEvery = options.analyzeEveryMs ?? 600_000
  const analyzeTimer = analyzeEvery > 0 ? setInterval(() => void analyze(), analyzeEvery) : null
  analyzeTimer?.unref()

  const signinLimiter = new RateLimiter(20, 60_000)

  async function handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const path = url.pathname
    if (path === '/admin') {
      res.writeHead(308, { location: CONSOLE_PATHS.app }).end()
      return true
    }
    if (!path.startsWith('/admin/')) return false
    hookApprovals()
    try {
      await ready
      if (path === CONSOLE_PATHS.signin) return await signin(req, res, url)
      if (path.startsWith(CONSOLE_PATHS.approveLink + '/')) return await approveLink(res, url)
      if (path === CONSOLE_PATHS.api || path.startsWith(CONSOLE_PATHS.api + '/'))
        return await api(req, res, url)
      return await serveStatic(req, res, path, options.assetsDir ?? null)
    } catch (err) {
      if (!(err instanceof ConsoleError))
        deps.logger.warn({ err: (err as Error).message, path }, 'console request failed')
      sendError(res, err)
      return true
    }
  }

  async function signin(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const ip = deps.clientIp(req)
    if (req.method !== 'GET') throw new ConsoleError(405, 'invalid_input', 'use the link')
    if (!signinLimiter.take(ip)) {
      sendPage(res, 429, 'Too many attempts', 'Wait a minute and use a fresh link.')
      return true
    }
    const code = url.searchParams.get('code') ?? ''
    const done = await exchangeSigninCode(services.sessions, code, ip)
    if (!done) {
      await deps.commit({
        drafts: [
          {
            team: '_server',
            kind: 'auth.failure',
            actor: 'anonymous',
            data: { reason: 'unknown, used or expired console link', via: 'console', ip },
          },
        ],
      })
      sendPage(
        res,
        401,
        'This sign-in link does not work',
        'It was used already, has expired, or was never issued. Ask for a new one: cmdai-sync admin-url --team T --user U.',
      )
      return true
    }
    services.publicUrl(req)
    // The code leaves the address bar (and history) at once: the app loads without it.
    redirectIntoConsole(req, res, done.cookie)
    return true
  }

  async function approveLink(res: ServerResponse, url: URL): Promise<boolean> {
    const path = url.pathname
    const id = decodeURIComponent(path.slice(CONSOLE_PATHS.approveLink.length + 1))
    const exp = Number(url.searchParams.get('exp'))
    const sig = url.searchParams.get('sig') ?? ''
    const good =
      /^[A-Za-z0-9_-]{1,128}$/.test(id) &&
      Number.isFinite(exp) &&
      exp > now() &&
      sig === signLink(await services.linkKey(), path, exp)
    if (!good) {
      sendPage(res, 404, 'Link not valid', 'This approval link is altered or expired.')
      return true
    }
    // Deciding still needs a console session: the link only leads there.
    res.writeHead(303, { location: `${CONSOLE_PATHS.app}#/approvals/${encodeURIComponent(id)}` })
    res.end()
    return true
  }

  async function api(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const method = req.method ?? 'GET'
    const sub = url.pathname.slice(CONSOLE_PATHS.api.length) || '/'
    if (method === 'POST' || method === 'PUT' || method === 'PATCH' || method === 'DELETE')
      sameOrigin(req)
    if (sub === '/invites/redeem' && method === 'POST') {
      if (!signinLimiter.take(deps.clientIp(req)))
        throw new ConsoleError(429, 'unavailable', 'too many attempts; wait a minute')
      const body = await readJson(req, 4_096)
      const base = services.publicUrl(req)
      sendJson(res, 200, await redeemInvite(services, body, base))
      return true
    }
    const session = await readSession(services.sessions, readCookies(req).get(CONSOLE_COOKIE))
    if (!session)
      throw new ConsoleError(401, 'forbidden', 'sign in with a link from cmdai-sync admin-url')
    let route: Route | null = null
    let params: Record<string, string> = {}
    let pathKnown = false
    for (const r of routes) {
      const m = matchPath(r.path, sub)
      if (!m) continue
      pathKnown = true
      if (r.method === method) {
        route = r
        params = m
        break
      }
    }
    if (!route)
      throw new ConsoleError(
        pathKnown ? 405 : 404,
        pathKnown ? 'invalid_input' : 'not_found',
        'no such endpoint',
      )
    if (!mayUse(session.role, route.area))
      throw new ConsoleError(403, 'forbidden', `your role (${session.role}) cannot use this`)
    let body: unknown = undefined
    if (method === 'POST') {
      // The CSRF token is only in the session answer, which another site cannot read.
      const given = req.headers[CSRF_HEADER]
      if (typeof given !== 'string' || !csrfMatches(given, session.csrf))
        throw new ConsoleError(403, 'forbidden', 'missing or wrong CSRF token: reload the console')
      body = await readJson(req, deps.maxBodyBytes)
    }
    const cookie = readCookies(req).get(CONSOLE_COOKIE)
    const result = await route.handler({
      session,
      principal: principalOf(session, deps.clientIp(req)),
      req,
      res,
      url,
      params,
      body,
      ip: deps.clientIp(req),
      stillValid: async () => (await readSession(services.sessions, cookie)) !== null,
    })
    if (result !== ANSWERED) sendJson(res, 200, result)
    return true
  }

  return {
    routes,
    webhooks,
    verify,
    handle,
    async close() {
      if (verifyTimer) clearInterval(verifyTimer)
      if (analyzeTimer) clearInterval(analyzeTimer)
      unsubscribeAudit()
      unsubscribeApprovals?.()
      for (const fn of closers.splice(0)) fn()
      await webhooks.stop()
    },
  }
}

function principalOf(s: ConsoleSessionRow, ip: string): Principal {
  return {
    team: s.team,
    user: s.user,
    role: s.role,
    tokenRole: s.role,
    jti: `console:${s.id}`,
    expiresAt: s.expiresAt,
    ip,
  }
}

/** A change must come from the console's own pages: another origin is refused outright. */
function sameOrigin(req: IncomingMessage): void {
  const site = req.headers['sec-fetch-site']
  if (site && site !== 'same-origin' && site !== 'none')
    throw new ConsoleError(403, 'forbidden', 'cross-site request refused')
  const origin = req.headers.origin
  if (origin && origin !== 'null') {
    let host: string
    try {
      host = new URL(origin).host
    } catch {
      throw new ConsoleError(403, 'forbidden', 'bad Origin')
    }
    if (host !== req.headers.host)
      throw new ConsoleError(403, 'forbidden', 'cross-origin request refused')
  } else if (origin === 'null') throw new ConsoleError(403, 'forbidden', 'opaque origin refused')
}
