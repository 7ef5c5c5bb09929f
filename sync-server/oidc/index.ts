import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  DEVICE_GRANT,
  IDENTITY_PATHS,
  isLoopbackRedirect,
  mappingSchema,
  type DeviceStart,
  type SsoConfig,
  type SsoTokenError,
} from '../../contract/identity'
import { TEAM_NAME_RE, roleAtLeast } from '../../contract/sync'
import { ConsoleError, parseInput, readJson, sendError, sendJson, sendPage } from '../console/http'
import { RateLimiter } from '../console/rate-limit'
import { openConsoleSession, redirectIntoConsole } from '../console/sessions'
import { ensureConsoleSchema } from '../console/schema'
import type { ExtensionDeps, HttpExtension } from '../server'
import { bearerToken, peekTeam, readForm } from './http'
import { IdentityProvider, IdpError, type IdpOptions } from './idp'
import { chooserPage } from './pages'
import { ensureIdentitySchema } from './schema'
import { SsoDenied, SsoSessions, type SessionPolicy } from './service'
import {
  authorizeFlow,
  dueConsoleSessions,
  failFlow,
  findByCode,
  getFlow,
  insertFlow,
  markPolled,
  purgeFlows,
  purgeRefreshTokens,
  secret,
  setConsoleSession,
  setDeviceInterval,
  setFlowSession,
  sha256,
  takeCode,
  takeStartedFlow,
  unspendCode,
  type FlowIdentity,
  type FlowRow,
} from './store'

export interface SsoOptions {
  issuer: string
  clientId: string
  clientSecret?: string
  /** The URL people reach this server at (the redirect URI is built on it). */
  publicUrl: () => string
  scopes?: string[]
  groupsClaim?: string
  userClaim?: string
  extraAuthParams?: Record<string, string>
  accessTokenSeconds?: number
  sessionDays?: number
  sessionHoursWithoutIdpRefresh?: number
  refreshIdleDays?: number
  clockToleranceSeconds?: number
  jwksCooldownMs?: number
  timeoutMs?: number
  /** Console sessions made by SSO are checked with the IdP this often (default: access TTL). */
  consoleRecheckMs?: number
  now?: () => number
}

export const DEFAULT_SCOPES = ['openid', 'email', 'profile', 'offline_access']
const FLOW_TTL_MS = 10 * 60_000
const CODE_TTL_MS = 2 * 60_000
const MAX_TOKEN_BODY = 8_192
const STATE_RE = /^[A-Za-z0-9._~-]{8,200}$/
const CHALLENGE_RE = /^[A-Za-z0-9_-]{43}$/
const VERIFIER_RE = /^[A-Za-z0-9._~-]{43,128}$/

export interface SsoExtension extends HttpExtension {
  readonly sessions: SsoSessions
  readonly idp: IdentityProvider
  /** Background work now (tests): purge, console session checks. */
  tick(): Promise<void>
}

/**
 * Single sign-on as a server extension:
 * `createSyncServer({ extensions: [(deps) => createSso(deps, options)] })`. See
 * `contract/identity.ts` for the endpoints.
 */
export function createSso(deps: ExtensionDeps, options: SsoOptions): SsoExtension {
  const now = options.now ?? (() => Date.now())
  const accessTokenSeconds = options.accessTokenSeconds ?? 900
  const idpOptions: IdpOptions = {
    issuer: options.issuer,
    clientId: options.clientId,
    ...(options.clientSecret ? { clientSecret: options.clientSecret } : {}),
    scopes: options.scopes ?? DEFAULT_SCOPES,
    extraAuthParams: options.extraAuthParams ?? {},
    clockToleranceSeconds: options.clockToleranceSeconds ?? 60,
    jwksCooldownMs: options.jwksCooldownMs ?? 30_000,
    timeoutMs: options.timeoutMs ?? 10_000,
    now,
  }
  const idp = new IdentityProvider(idpOptions)
  const policy: SessionPolicy = {
    accessTokenSeconds,
    sessionSeconds: (options.sessionDays ?? 30) * 86_400,
    sessionSecondsWithoutIdpRefresh: (options.sessionHoursWithoutIdpRefresh ?? 12) * 3_600,
    refreshIdleSeconds: (options.refreshIdleDays ?? 14) * 86_400,
  }
  const claimOptions = {
    groupsClaim: options.groupsClaim ?? 'groups',
    userClaim: options.userClaim ?? 'email',
  }
  const sessions = new SsoSessions({ deps, idp, claims: claimOptions, policy, now })
  // The console's tables too: a console sign-in ends in one of its sessions.
  const ready = Promise.all([ensureIdentitySchema(deps.storage), ensureConsoleSchema(deps.storage)])
  ready.catch((err: Error) => deps.logger.error({ err: err.message }, 'sign-in tables failed'))
  const startLimiter = new RateLimiter(30, 60_000)
  const tokenLimiter = new RateLimiter(120, 60_000)
  const callbackUrl = () => `${options.publicUrl().replace(/\/+$/, '')}${IDENTITY_PATHS.callback}`

  // Token sign-in to the console while SSO is on is the break-glass path: say so in the record.
  const unsubscribe = deps.onAudit((records) => {
    const glass = records.filter(
      (r) => r.kind === 'console.signin' && r.data.step === 'session' && r.data.via === 'admin-url',
    )
    if (glass.length === 0) return
    void deps
      .commit({
        drafts: glass.map((r) => ({
          team: r.team,
          kind: 'sso.break-glass' as const,
          actor: r.actor,
          data: { session: r.data.session, ip: r.data.ip, signinSeq: r.seq },
        })),
      })
      .catch(() => {})
  })

  async function tick(): Promise<void> {
    await ready
    const t = now()
    await purgeFlows(deps.storage.sql, t - FLOW_TTL_MS)
    await purgeRefreshTokens(deps.storage.sql, t - 86_400_000)
    // Each refresh mints an access token (a row, for revocation); minutes after they expire they
    // can neither sign in nor need revoking, and would only crowd `token list`.
    await deps.storage.sql.query(
      `DELETE FROM tokens WHERE label LIKE 'sso:%' AND expires_at < $1`,
      [Date.now() - 5 * 60_000],
    )
    const every = options.consoleRecheckMs ?? accessTokenSeconds * 1000
    for (const s of await dueConsoleSessions(deps.storage.sql, t - every, t))
      await sessions.recheck(s, 'background')
  }
  const timer = setInterval(() => {
    tick().catch((err: Error) => deps.logger.warn({ err: err.message }, 'sso background failed'))
  }, 60_000)
  timer.unref()

  async function startFlow(
    kind: 'console' | 'app',
    team: string | null,
    client: { redirect: string; state: string; challenge: string } | null,
  ): Promise<string> {
    const state = secret()
    const nonce = secret()
    const verifier = secret(48)
    await insertFlow(deps.storage.sql, {
      idHash: sha256(state),
      kind,
      nonce,
      verifier,
      team,
      clientRedirect: client?.redirect ?? null,
      clientState: client?.state ?? null,
      clientChallenge: client?.challenge ?? null,
      deviceCode: null,
      deviceInterval: null,
      createdAt: now(),
      expiresAt: now() + FLOW_TTL_MS,
    })
    return (await idp.authorizationUrl({ redirectUri: callbackUrl(), state, nonce, verifier })).href
  }

  function teamParam(value: string | null | undefined): string | null {
    if (value === null || value === undefined || value === '') return null
    if (!TEAM_NAME_RE.test(value)) throw new ConsoleError(400, 'invalid_input', 'not a team name')
    return value
  }

  async function consoleStart(req: IncomingMessage, res: ServerResponse, url: URL) {
    const team = teamParam(url.searchParams.get('team'))
    redirect(res, await startFlow('console', team, null))
  }

  async function authorize(req: IncomingMessage, res: ServerResponse, url: URL) {
    const q = url.searchParams
    const redirectUri = q.get('redirect_uri') ?? ''
    // Never redirect to an address we have not validated: a bad one gets a page, not a redirect.
    if (!isLoopbackRedirect(redirectUri))
      return sendPage(
        res,
        400,
        'Sign-in refused',
        'The app asked to be answered at an address that is not a loopback redirect (http://127.0.0.1:PORT/… or http://[::1]:PORT/…).',
      )
    const state = q.get('state') ?? ''
    const challenge = q.get('code_challenge') ?? ''
    if (
      !STATE_RE.test(state) ||
      !CHALLENGE_RE.test(challenge) ||
      q.get('code_challenge_method') !== 'S256'
    )
      return redirect(
        res,
        clientError(
          redirectUri,
          state,
          'invalid_request',
          'state and an S256 code_challenge are required',
        ),
      )
    const team = teamParam(q.get('team'))
    redirect(res, await startFlow('app', team, { redirect: redirectUri, state, challenge }))
  }

  async function callback(req: IncomingMessage, res: ServerResponse, url: URL) {
    const ip = deps.clientIp(req)
    const state = url.searchParams.get('state') ?? ''
    const flow = STATE_RE.test(state) ? await takeStartedFlow(deps.storage.sql, state, now()) : null
    if (!flow) {
      await sessions.failure(null, 'callback', 'unknown, used or expired sign-in state', ip)
      return sendPage(
        res,
        400,
        'This sign-in cannot continue',
        'It was completed already, has expired, or did not start here. Start the sign-in again.',
      )
    }
    let identity: FlowIdentity
    try {
      const callback = new URL(callbackUrl())
      callback.search = url.search
      identity = sessions.identityOf(
        await idp.exchangeCode(callback, { state, nonce: flow.nonce, verifier: flow.verifier }),
      )
    } catch (err) {
      const why = err instanceof IdpError ? err.message : 'the IdP’s answer could not be checked'
      await sessions.failure(flow.team, flow.kind, why, ip)
      return finishWithError(res, flow, 'access_denied', why)
    }
    await continueFlow(req, res, flow, identity, flow.team)
  }

  /** After the IdP: pick the team (asking in the browser if needed), then finish the flow. */
  async function continueFlow(
    req: IncomingMessage,
    res: ServerResponse,
    flow: FlowRow,
    identity: FlowIdentity,
    wanted: string | null,
  ) {
    const ip = deps.clientIp(req)
    let team: string
    try {
      team = await sessions.chooseTeam(identity, wanted)
    } catch (err) {
      if (err instanceof SsoDenied && err.error === 'team_required') {
        const code = secret()
        await authorizeFlow(deps.storage.sql, flow.idHash, identity, code, now() + FLOW_TTL_MS)
        return chooserPage(res, identity.user, code, await sessions.teamsFor(identity))
      }
      const why = (err as Error).message
      await sessions.failure(wanted, flow.kind, `${identity.user}: ${why}`, ip)
      return finishWithError(res, flow, 'access_denied', why)
    }
    if (flow.kind === 'app') {
      const code = secret()
      await authorizeFlow(deps.storage.sql, flow.idHash, identity, code, now() + CODE_TTL_MS)
      await deps.storage.sql.query('UPDATE sso_flows SET team = $2 WHERE id_hash = $1', [
        flow.idHash,
        team,
      ])
      const to = new URL(flow.clientRedirect!)
      to.searchParams.set('code', code)
      to.searchParams.set('state', flow.clientState!)
      return redirect(res, to.href)
    }
    // The console: a console session of the team's, opened through its own one-time code.
    try {
      const { session } = await sessions.open(identity, team, 'console', ip)
      const done = await openConsoleSession(
        { storage: deps.storage, commit: deps.commit, now },
        { team, user: session.user, ip, via: 'sso' },
      )
      if (!done) throw new SsoDenied('access_denied', 'the console session could not be opened')
      await setConsoleSession(deps.storage.sql, session.id, done.session.id)
      redirectIntoConsole(req, res, done.cookie)
    } catch (err) {
      const why = (err as Error).message
      await sessions.failure(team, 'console', `${identity.user}: ${why}`, ip)
      return finishWithError(res, flow, 'access_denied', why)
    }
  }

  async function choose(req: IncomingMessage, res: ServerResponse) {
    const form = await readForm(req, 4_096)
    const flow = await takeCode(deps.storage.sql, form.get('code') ?? '', now())
    if (!flow || !flow.identity || flow.kind === 'device')
      return sendPage(res, 400, 'This choice has expired', 'Start the sign-in again.')
    await continueFlow(req, res, flow, flow.identity, teamParam(form.get('team')))
  }

  function finishWithError(res: ServerResponse, flow: FlowRow, error: string, why: string) {
    if (flow.kind === 'app' && flow.clientRedirect && flow.clientState)
      return redirect(res, clientError(flow.clientRedirect, flow.clientState, error, why))
    sendPage(res, 403, 'Sign-in refused', why)
  }

  async function device(req: IncomingMessage, res: ServerResponse) {
    const form = await readForm(req, MAX_TOKEN_BODY)
    const team = teamParam(form.get('team'))
    let started
    try {
      started = await idp.startDevice()
    } catch (err) {
      const e = err as IdpError
      return oauthError(
        res,
        e.kind === 'unavailable' ? 503 : 400,
        e.kind === 'unavailable' ? 'temporarily_unavailable' : 'unsupported_grant_type',
        e.message,
      )
    }
    const handle = secret()
    const expiresIn = Math.min(Math.max(Number(started.expires_in) || 600, 60), 1800)
    const interval = Math.min(Math.max(Number(started.interval) || 5, 1), 60)
    await insertFlow(deps.storage.sql, {
      idHash: sha256(handle),
      kind: 'device',
      nonce: '',
      verifier: '',
      team,
      clientRedirect: null,
      clientState: null,
      clientChallenge: null,
      deviceCode: started.device_code,
      deviceInterval: interval,
      createdAt: now(),
      expiresAt: now() + expiresIn * 1000,
    })
    const body: DeviceStart = {
      device_code: handle,
      user_code: String(started.user_code).slice(0, 100),
      verification_uri: started.verification_uri,
      ...(started.verification_uri_complete
        ? { verification_uri_complete: started.verification_uri_complete }
        : {}),
      expires_in: expiresIn,
      interval,
    }
    sendJson(res, 200, body)
  }

  async function token(req: IncomingMessage, res: ServerResponse) {
    const ip = deps.clientIp(req)
    if (!tokenLimiter.take(ip)) return oauthError(res, 429, 'slow_down', 'too many requests')
    const form = await readForm(req, MAX_TOKEN_BODY)
    const grant = form.get('grant_type')
    try {
      if (grant === 'refresh_token')
        return sendJson(res, 200, await sessions.refresh(form.get('refresh_token') ?? '', ip))
      if (grant === 'authorization_code') return await codeGrant(res, form, ip)
      if (grant === DEVICE_GRANT) return await deviceGrant(res, form, ip)
      return oauthError(
        res,
        400,
        'unsupported_grant_type',
        'grant_type is not one this server takes',
      )
    } catch (err) {
      if (err instanceof SsoDenied)
        return oauthError(
          res,
          err.error === 'temporarily_unavailable' ? 503 : 400,
          err.error,
          err.message,
          err.teams,
        )
      throw err
    }
  }

  async function codeGrant(res: ServerResponse, form: Map<string, string>, ip: string) {
    const code = form.get('code') ?? ''
    const flow = await takeCode(deps.storage.sql, code, now())
    if (!flow || flow.kind !== 'app' || !flow.identity) {
      // A code used twice: whatever it gave is revoked (RFC 6749 §4.1.2).
      const used = code ? await findByCode(deps.storage.sql, code) : null
      if (used?.sessionId)
        await sessions.revoke(used.sessionId, 'authorization code replayed', 'sso', ip)
      await sessions.failure(null, 'token', 'unknown, used or expired code', ip)
      throw new SsoDenied('invalid_grant', 'unknown, used or expired code')
    }
    const verifier = form.get('code_verifier') ?? ''
    const challenge = VERIFIER_RE.test(verifier)
      ? Buffer.from(sha256Bytes(verifier)).toString('base64url')
      : ''
    if (challenge !== flow.clientChallenge || form.get('redirect_uri') !== flow.clientRedirect) {
      await sessions.failure(flow.team, 'token', 'PKCE verifier or redirect_uri mismatch', ip)
      throw new SsoDenied('invalid_grant', 'code_verifier or redirect_uri does not match')
    }
    const team = flow.team ?? teamParam(form.get('team'))
    let chosen: string
    try {
      chosen = await sessions.chooseTeam(flow.identity, team)
    } catch (err) {
      // The client can repeat with a team: the code stays good until it expires.
      if (err instanceof SsoDenied && err.error === 'team_required')
        await unspendCode(deps.storage.sql, flow.idHash)
      throw err
    }
    const { tokens, session } = await sessions.open(flow.identity, chosen, 'app', ip)
    await setFlowSession(deps.storage.sql, flow.idHash, session.id)
    sendJson(res, 200, tokens)
  }

  async function deviceGrant(res: ServerResponse, form: Map<string, string>, ip: string) {
    const handle = form.get('device_code') ?? ''
    const flow = /^[A-Za-z0-9_-]{43}$/.test(handle) ? await getFlow(deps.storage.sql, handle) : null
    if (!flow || flow.kind !== 'device' || flow.status === 'used' || flow.status === 'failed')
      throw new SsoDenied('invalid_grant', 'unknown or finished device code')
    if (flow.expiresAt <= now()) return oauthError(res, 400, 'expired_token', 'the code expired')
    let identity = flow.identity
    if (flow.status === 'started') {
      const interval = (flow.deviceInterval ?? 5) * 1000
      if (!(await markPolled(deps.storage.sql, flow.idHash, now(), interval)))
        return oauthError(res, 400, 'slow_down', `poll at most every ${interval / 1000} s`)
      let polled
      try {
        polled = await idp.pollDevice(flow.deviceCode!)
      } catch (err) {
        const e = err as IdpError
        if (e.kind === 'unavailable') throw new SsoDenied('temporarily_unavailable', e.message)
        await failFlow(deps.storage.sql, flow.idHash, now())
        await sessions.failure(flow.team, 'device', e.message, ip)
        throw new SsoDenied('access_denied', e.message)
      }
      if (polled.status === 'pending') {
        if (polled.slowDown)
          await setDeviceInterval(deps.storage.sql, flow.idHash, (flow.deviceInterval ?? 5) + 5)
        return oauthError(
          res,
          400,
          polled.slowDown ? 'slow_down' : 'authorization_pending',
          'waiting for the user to approve at the IdP',
        )
      }
      if (polled.status === 'failed') {
        await failFlow(deps.storage.sql, flow.idHash, now())
        await sessions.failure(flow.team, 'device', polled.description, ip)
        return oauthError(res, 400, polled.error, polled.description)
      }
      identity = sessions.identityOf(polled.identity)
      await authorizeFlow(deps.storage.sql, flow.idHash, identity, null, flow.expiresAt)
    }
    if (!identity) throw new SsoDenied('invalid_grant', 'unknown or finished device code')
    const team = await sessions.chooseTeam(identity, flow.team ?? teamParam(form.get('team')))
    const spent = await deps.storage.sql.query(
      `UPDATE sso_flows SET status = 'used', used_at = $2 WHERE id_hash = $1 AND status = 'authorized'
       RETURNING id_hash`,
      [flow.idHash, now()],
    )
    if (spent.rows.length !== 1) throw new SsoDenied('invalid_grant', 'device code already used')
    const { tokens, session } = await sessions.open(identity, team, 'device', ip)
    await setFlowSession(deps.storage.sql, flow.idHash, session.id)
    sendJson(res, 200, tokens)
  }

  async function revoke(req: IncomingMessage, res: ServerResponse) {
    const form = await readForm(req, MAX_TOKEN_BODY)
    const tokenValue = form.get('token') ?? form.get('refresh_token') ?? ''
    const sid = sessions.sessionIdOf(tokenValue)
    if (sid) {
      // Only the holder of a real refresh token of the session may end it.
      const r = await deps.storage.sql.query<{ session_id: string }>(
        'SELECT session_id FROM sso_refresh_tokens WHERE hash = $1',
        [sha256(tokenValue)],
      )
      if (r.rows[0]?.session_id === sid) {
        const s = await deps.storage.sql.query<{ user_id: string }>(
          'SELECT user_id FROM sso_sessions WHERE id = $1',
          [sid],
        )
        await sessions.revoke(
          sid,
          'signed out',
          String(s.rows[0]?.user_id ?? 'sso'),
          deps.clientIp(req),
        )
      }
    }
    sendJson(res, 200, {})
  }

  async function mapping(req: IncomingMessage, res: ServerResponse) {
    const token = bearerToken(req)
    const team = peekTeam(token)
    const auth = await deps.authenticate(token, team ?? '', deps.clientIp(req), 'sso-mapping')
    if (!auth.ok) throw new ConsoleError(401, 'forbidden', auth.reason)
    if (!roleAtLeast(auth.principal.role, 'admin'))
      throw new ConsoleError(403, 'forbidden', 'only admins see and change the sign-in mapping')
    if (req.method === 'GET')
      return sendJson(res, 200, { rules: await sessions.mapping(auth.principal.team) })
    if (req.method !== 'POST') throw new ConsoleError(405, 'invalid_input', 'GET or POST')
    const { rules } = parseInput(mappingSchema, await readJson(req, 256 * 1024))
    await sessions.saveMapping(auth.principal.team, rules, auth.principal.user)
    sendJson(res, 200, { rules })
  }

  async function config(res: ServerResponse) {
    const body: SsoConfig = {
      enabled: true,
      issuer: options.issuer,
      deviceFlow: await idp.deviceFlowSupported(),
      accessTokenSeconds,
    }
    sendJson(res, 200, body)
  }

  async function handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const path = url.pathname
    const mine =
      path === IDENTITY_PATHS.config ||
      path.startsWith(IDENTITY_PATHS.config + '/') ||
      path === IDENTITY_PATHS.mapping
    if (!mine) return false
    const method = req.method ?? 'GET'
    try {
      await ready
      const route = `${method} ${path}`
      const ip = deps.clientIp(req)
      const browserStart =
        route === `GET ${IDENTITY_PATHS.console}` || route === `GET ${IDENTITY_PATHS.authorize}`
      if (browserStart && !startLimiter.take(ip)) {
        sendPage(res, 429, 'Too many sign-ins', 'Wait a minute and try again.')
        return true
      }
      switch (route) {
        case `GET ${IDENTITY_PATHS.config}`:
          await config(res)
          break
        case `GET ${IDENTITY_PATHS.console}`:
          await consoleStart(req, res, url)
          break
        case `GET ${IDENTITY_PATHS.authorize}`:
          await authorize(req, res, url)
          break
        case `GET ${IDENTITY_PATHS.callback}`:
          await callback(req, res, url)
          break
        case `POST ${IDENTITY_PATHS.choose}`:
          await choose(req, res)
          break
        case `POST ${IDENTITY_PATHS.device}`:
          await device(req, res)
          break
        case `POST ${IDENTITY_PATHS.token}`:
          await token(req, res)
          break
        case `POST ${IDENTITY_PATHS.revoke}`:
          await revoke(req, res)
          break
        default:
          if (path === IDENTITY_PATHS.mapping) await mapping(req, res)
          else throw new ConsoleError(404, 'not_found', 'no such endpoint')
      }
    } catch (err) {
      if (err instanceof IdpError) {
        deps.logger.warn({ err: err.message }, 'identity provider problem')
        sendPage(res, 503, 'The sign-in service cannot be reached', err.message)
      } else {
        if (!(err instanceof ConsoleError))
          deps.logger.warn({ err: (err as Error).message, path }, 'sso request failed')
        sendError(res, err)
      }
    }
    return true
  }

  return {
    sessions,
    idp,
    tick,
    handle,
    close() {
      clearInterval(timer)
      unsubscribe()
    },
  }
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' })
  res.end()
}

function clientError(redirectUri: string, state: string, error: string, why: string): string {
  const to = new URL(redirectUri)
  to.searchParams.set('error', error)
  to.searchParams.set('error_description', why.slice(0, 300))
  if (state) to.searchParams.set('state', state)
  return to.href
}

function oauthError(
  res: ServerResponse,
  status: number,
  error: SsoTokenError['error'],
  description: string,
  teams: string[] = [],
): void {
  const body: SsoTokenError = {
    error,
    error_description: description.slice(0, 300),
    ...(teams.length ? { teams } : {}),
  }
  sendJson(res, status, body)
}

function sha256Bytes(text: string): Buffer {
  return Buffer.from(sha256(text), 'hex')
}
