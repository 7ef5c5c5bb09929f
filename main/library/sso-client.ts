import { randomBytes, createHash } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { CmdaiError } from '../../contract/errors'
import {
  DEVICE_GRANT,
  IDENTITY_PATHS,
  deviceStartSchema,
  ssoTokensSchema,
  type DeviceStart,
  type SsoConfig,
  type SsoTokens,
} from '../../contract/identity'

/**
 * Single sign-on from the app and the CLI, against the team server (which alone talks to the
 * IdP): the loopback flow of RFC 8252 (a one-shot HTTP listener on 127.0.0.1, PKCE S256, a state
 * checked on the way back), the device flow of RFC 8628 the server relays, refreshing and
 * revoking. Every answer is validated; an OAuth error comes back as a `CmdaiError` in words.
 */
const TIMEOUT_MS = 15_000

export class SsoError extends CmdaiError {
  constructor(
    code: ConstructorParameters<typeof CmdaiError>[0],
    message: string,
    /** The OAuth error (`invalid_grant`, `team_required`, …), when the server sent one. */
    readonly oauth: string | null = null,
    readonly teams: string[] = [],
  ) {
    super(code, message)
  }
}

function endpoint(server: string, path: string): URL {
  return new URL(path, server.endsWith('/') ? server : server + '/')
}

async function post(
  server: string,
  path: string,
  form: Record<string, string>,
  signal?: AbortSignal,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const timeout = AbortSignal.timeout(TIMEOUT_MS)
  let res: Response
  try {
    res = await fetch(endpoint(server, path), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      redirect: 'error',
    })
  } catch (err) {
    if (signal?.aborted) throw new SsoError('cancelled', 'Cancelled')
    throw new SsoError(
      'unavailable',
      `The team server ${server} cannot be reached (${(err as Error).message})`,
    )
  }
  const text = await res.text()
  let body: Record<string, unknown> = {}
  try {
    const parsed = JSON.parse(text) as unknown
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      body = parsed as Record<string, unknown>
  } catch {
    // Reported below by status.
  }
  return { status: res.status, body }
}

/** The tokens in a 200 answer, or the error it carries, as a `SsoError`. */
function tokensOrError(r: { status: number; body: Record<string, unknown> }): SsoTokens {
  if (r.status === 200) {
    const parsed = ssoTokensSchema.safeParse(r.body)
    if (!parsed.success) throw new SsoError('internal', 'Team server: malformed sign-in answer')
    return parsed.data
  }
  throw oauthError(r)
}

function oauthError(r: { status: number; body: Record<string, unknown> }): SsoError {
  const error = typeof r.body.error === 'string' ? r.body.error.slice(0, 50) : null
  const why =
    typeof r.body.error_description === 'string'
      ? r.body.error_description.slice(0, 300)
      : typeof r.body.message === 'string'
        ? r.body.message.slice(0, 300)
        : `HTTP ${r.status}`
  const teams = Array.isArray(r.body.teams)
    ? r.body.teams.filter((t): t is string => typeof t === 'string').slice(0, 50)
    : []
  const code =
    error === 'temporarily_unavailable' || r.status >= 500
      ? 'unavailable'
      : error === 'team_required'
        ? 'invalid_input'
        : 'forbidden'
  return new SsoError(code, `Sign-in: ${why}`, error, teams)
}

/** Whether the server signs in with an IdP (a server without SSO answers 404). */
export async function ssoConfig(server: string): Promise<SsoConfig> {
  let res: Response
  try {
    res = await fetch(endpoint(server, IDENTITY_PATHS.config), {
      signal: AbortSignal.timeout(TIMEOUT_MS),
      redirect: 'error',
    })
  } catch (err) {
    throw new SsoError(
      'unavailable',
      `The team server ${server} cannot be reached (${(err as Error).message})`,
    )
  }
  if (res.status === 404) return { enabled: false, deviceFlow: false }
  const body = (await res.json().catch(() => null)) as Partial<SsoConfig> | null
  if (!res.ok || !body || typeof body.enabled !== 'boolean')
    throw new SsoError('unavailable', `Team server: unexpected answer (${res.status})`)
  return {
    enabled: body.enabled,
    deviceFlow: body.deviceFlow === true,
    ...(typeof body.issuer === 'string' ? { issuer: body.issuer } : {}),
    ...(typeof body.accessTokenSeconds === 'number'
      ? { accessTokenSeconds: body.accessTokenSeconds }
      : {}),
  }
}

export interface LoopbackSignIn {
  /** Open this in the system browser (or a new tab). */
  url: string
  /** The server's tokens once the browser comes back to the loopback address. */
  result: Promise<SsoTokens>
  cancel(): void
}

const DONE_PAGE = (title: string, text: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>` +
  `<body style="font:16px system-ui,sans-serif;max-width:30rem;margin:4rem auto"><h1>${title}</h1><p>${text}</p></body></html>`

const esc = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  )

/**
 * Starts the app's sign-in (RFC 8252): a listener on 127.0.0.1 (any free port, one request, path
 * `/callback/<random>`), a PKCE pair and a state; `url` goes to the server's authorize endpoint.
 * The first callback with the right state is exchanged for tokens; anything else is answered
 * with an error page and ignored. Times out after `timeoutMs`.
 */
export async function startLoopbackSignIn(
  server: string,
  options: { team?: string; timeoutMs?: number } = {},
): Promise<LoopbackSignIn> {
  const verifier = randomBytes(48).toString('base64url')
  const challenge = createHash('sha256').update(verifier).digest('base64url')
  const state = randomBytes(24).toString('base64url')
  const path = `/callback/${randomBytes(12).toString('base64url')}`
  let settle: { resolve(t: SsoTokens): void; reject(e: Error): void } | null = null
  const result = new Promise<SsoTokens>((resolve, reject) => (settle = { resolve, reject }))
  result.catch(() => {})
  let redirect = ''
  let done = false
  const finish = (err: Error | null, tokens?: SsoTokens) => {
    if (done) return
    done = true
    clearTimeout(timer)
    listener.close()
    listener.closeAllConnections()
    if (err) settle!.reject(err)
    else settle!.resolve(tokens!)
  }
  const listener = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1')
      const page = (status: number, title: string, text: string) => {
        res.writeHead(status, {
          'content-type': 'text/html; charset=utf-8',
          'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
          'cache-control': 'no-store',
          'referrer-policy': 'no-referrer',
        })
        res.end(DONE_PAGE(esc(title), esc(text)))
      }
      if (req.method !== 'GET' || url.pathname !== path || done)
        return page(404, 'Not here', 'This address only takes the sign-in’s answer, once.')
      if (url.searchParams.get('state') !== state)
        return page(400, 'Sign-in refused', 'The answer does not belong to this sign-in.')
      const error = url.searchParams.get('error')
      if (error) {
        const why = (url.searchParams.get('error_description') ?? error).slice(0, 300)
        page(403, 'Sign-in refused', why)
        return finish(new SsoError('forbidden', `Sign-in: ${why}`, error.slice(0, 50)))
      }
      const code = url.searchParams.get('code') ?? ''
      try {
        const tokens = tokensOrError(
          await post(server, IDENTITY_PATHS.token, {
            grant_type: 'authorization_code',
            code,
            code_verifier: verifier,
            redirect_uri: redirect,
          }),
        )
        page(
          200,
          'Signed in',
          `You are signed in to ${tokens.team} as ${tokens.user}. You can close this tab.`,
        )
        finish(null, tokens)
      } catch (err) {
        page(403, 'Sign-in refused', (err as Error).message)
        finish(err as Error)
      }
    })()
  })
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject)
    listener.listen(0, '127.0.0.1', () => resolve())
  })
  redirect = `http://127.0.0.1:${(listener.address() as AddressInfo).port}${path}`
  const timer = setTimeout(
    () => finish(new SsoError('timeout', 'Sign-in: the browser did not come back in time')),
    options.timeoutMs ?? 10 * 60_000,
  )
  timer.unref()
  const url = endpoint(server, IDENTITY_PATHS.authorize)
  url.searchParams.set('redirect_uri', redirect)
  url.searchParams.set('state', state)
  url.searchParams.set('code_challenge', challenge)
  url.searchParams.set('code_challenge_method', 'S256')
  if (options.team) url.searchParams.set('team', options.team)
  return {
    url: url.href,
    result,
    cancel: () => finish(new SsoError('cancelled', 'Sign-in cancelled')),
  }
}

/**
 * The device flow (RFC 8628) through the server: `onCode` shows the user where to go and the
 * code; polling respects the interval (and `slow_down`) until the user approves, refuses, or the
 * code expires. With `team_required`, `chooseTeam` picks one of the teams offered.
 */
export async function deviceSignIn(
  server: string,
  options: {
    team?: string
    onCode(start: DeviceStart): void
    chooseTeam?(teams: string[]): Promise<string | null>
    signal?: AbortSignal
    sleep?: (ms: number) => Promise<void>
  },
): Promise<SsoTokens> {
  const started = await post(
    server,
    IDENTITY_PATHS.device,
    options.team ? { team: options.team } : {},
    options.signal,
  )
  if (started.status !== 200) throw oauthError(started)
  const parsed = deviceStartSchema.safeParse(started.body)
  if (!parsed.success) throw new SsoError('internal', 'Team server: malformed device answer')
  const start = parsed.data
  options.onCode(start)
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)))
  let interval = start.interval * 1000
  let team = options.team
  const deadline = Date.now() + start.expires_in * 1000
  while (Date.now() < deadline) {
    if (options.signal?.aborted) throw new SsoError('cancelled', 'Sign-in cancelled')
    await sleep(interval)
    const r = await post(
      server,
      IDENTITY_PATHS.token,
      { grant_type: DEVICE_GRANT, device_code: start.device_code, ...(team ? { team } : {}) },
      options.signal,
    )
    if (r.status === 200) return tokensOrError(r)
    const error = r.body.error
    if (error === 'authorization_pending') continue
    if (error === 'slow_down') {
      interval += 5_000
      continue
    }
    const err = oauthError(r)
    if (err.oauth === 'team_required' && options.chooseTeam && !team) {
      const chosen = await options.chooseTeam(err.teams)
      if (!chosen) throw new SsoError('cancelled', 'Sign-in cancelled')
      team = chosen
      interval = 0
      continue
    }
    throw err
  }
  throw new SsoError('timeout', 'Sign-in: the code expired before it was approved')
}

export async function refreshSession(server: string, refreshToken: string): Promise<SsoTokens> {
  return tokensOrError(
    await post(server, IDENTITY_PATHS.token, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
    }),
  )
}

/** Ends the session at the server (its refresh and access tokens stop working). */
export async function revokeSession(server: string, refreshToken: string): Promise<void> {
  const r = await post(server, IDENTITY_PATHS.revoke, { token: refreshToken })
  if (r.status !== 200) throw oauthError(r)
}
