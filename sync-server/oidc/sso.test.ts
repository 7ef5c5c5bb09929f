import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONSOLE_COOKIE } from '../../contract/console'
import { DEVICE_GRANT, IDENTITY_PATHS, type SsoTokens } from '../../contract/identity'
import { CLOSE, roomName, type AuditRecord } from '../../contract/sync'
import { parseRecord } from '../audit/audit-log'
import { clientPool, tempRoot } from '../testing/harness'
import { appSignIn, pkcePair, throughIdp } from './testing/flows'
import { startSsoServer, type SsoServer } from './testing/sso-server'
import { startTestIdp, type TestIdp } from './testing/test-idp'
import { UserAgent } from './testing/user-agent'

/**
 * Single sign-on against a real OpenID provider (oidc-provider on loopback, through its own login
 * and consent pages): the console's sign-in, the app's code + PKCE flow, the device flow, refresh
 * rotation and reuse, a group change removing access at the next refresh (and closing the open
 * connection), and the IdP rotating its signing key.
 */
const { root, cleanup } = tempRoot('cmdai-sso-')
const pool = clientPool()
let idp: TestIdp
let s: SsoServer

async function records(team: string): Promise<AuditRecord[]> {
  const out: AuditRecord[] = []
  for await (const line of s.audit.lines(team)) out.push(parseRecord(line.line))
  return out
}

async function appTokens(user: string, team?: string): Promise<SsoTokens> {
  const { landing, pkce, redirect, state } = await appSignIn(s.base, user, { team })
  expect(landing.searchParams.get('state')).toBe(state)
  const r = await s.grant({
    grant_type: 'authorization_code',
    code: landing.searchParams.get('code')!,
    code_verifier: pkce.verifier,
    redirect_uri: redirect,
  })
  expect(r.status, JSON.stringify(r.body)).toBe(200)
  return r.body as unknown as SsoTokens
}

beforeAll(async () => {
  idp = await startTestIdp()
  s = await startSsoServer(root, 'sso', idp)
  await s.map('platform', [
    { match: 'group', value: 'platform-eng', role: 'engineer' },
    { match: 'group', value: 'platform-admins', role: 'admin' },
    { match: 'emailDomain', value: 'example.com', role: 'readonly' },
  ])
  await s.map('data', [{ match: 'group', value: 'data-team', role: 'junior' }])
})

afterAll(async () => {
  pool.destroyAll()
  await s?.close()
  await idp?.close()
  cleanup()
})

describe('sign-in through the IdP', () => {
  it('publishes its configuration', async () => {
    const r = await fetch(`${s.base}${IDENTITY_PATHS.config}`)
    expect(await r.json()).toMatchObject({ enabled: true, issuer: idp.issuer, deviceFlow: true })
  })

  it('signs the console in through the IdP’s login and consent pages', async () => {
    idp.setGroups('carla', ['platform-admins'])
    const ua = new UserAgent()
    const stop = (u: URL) => u.pathname.startsWith('/admin')
    const first = await ua.open(`${s.base}${IDENTITY_PATHS.console}?team=platform`, {}, stop)
    expect(first.url.startsWith(idp.issuer)).toBe(true)
    expect(first.html).toContain('name="login"')
    const done = await throughIdp(ua, first, 'carla', stop)
    expect(new URL(done.location!).pathname).toBe('/admin/')
    expect(ua.cookie(s.base, CONSOLE_COOKIE)).toMatch(/^[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}$/)
    expect(done.setCookies.join(';')).toMatch(/HttpOnly.*SameSite=Strict/)
    const member = await s.storage.getMember('platform', 'carla@example.com')
    expect(member?.role).toBe('admin')
    const kinds = (await records('platform')).map(
      (r) => `${r.kind}:${String(r.data.step ?? r.data.via ?? '')}`,
    )
    expect(kinds).toContain('sso.signin:console')
    expect(kinds).toContain('console.signin:session')
  })

  it('refuses a replayed callback (state used once)', async () => {
    idp.setGroups('dan', ['platform-eng'])
    const ua = new UserAgent()
    const toCallback = (u: URL) => u.pathname === IDENTITY_PATHS.callback
    const first = await ua.open(`${s.base}${IDENTITY_PATHS.console}`, {}, toCallback)
    const atCallback = await throughIdp(ua, first, 'dan', toCallback)
    const callback = atCallback.location!
    const once = await ua.open(callback, {}, (u) => u.pathname.startsWith('/admin'))
    expect(once.status).toBe(303)
    const again = await ua.open(callback, {}, (u) => u.pathname.startsWith('/admin'))
    expect(again.status).toBe(400)
    expect(again.html).toContain('cannot continue')
  })

  it('gives the app tokens for a code, its PKCE verifier and its redirect URI', async () => {
    idp.setGroups('ana', ['platform-eng'])
    const t = await appTokens('ana')
    expect(t).toMatchObject({ team: 'platform', user: 'ana@example.com', role: 'engineer' })
    expect(t.expires_in).toBeLessThanOrEqual(900)
    // The access token is a server token: it opens a library with the mapped role.
    const c = pool.connect(s.url, roomName('platform', 'deploy'), t.access_token)
    await c.synced()
    const me = await s.api(t.access_token, 'GET', IDENTITY_PATHS.me)
    expect(me.body).toMatchObject({ role: 'engineer', baseRole: 'engineer', via: 'sso' })
  })

  it('refuses a code with the wrong verifier, and a code used twice revokes what it gave', async () => {
    idp.setGroups('bea', ['platform-eng'])
    const wrong = await appSignIn(s.base, 'bea')
    const bad = await s.grant({
      grant_type: 'authorization_code',
      code: wrong.landing.searchParams.get('code')!,
      code_verifier: 'x'.repeat(43),
      redirect_uri: wrong.redirect,
    })
    expect(bad).toMatchObject({ status: 400, body: { error: 'invalid_grant' } })

    const ok = await appSignIn(s.base, 'bea')
    const form = {
      grant_type: 'authorization_code',
      code: ok.landing.searchParams.get('code')!,
      code_verifier: ok.pkce.verifier,
      redirect_uri: ok.redirect,
    }
    const first = await s.grant(form)
    expect(first.status).toBe(200)
    const access = (first.body as unknown as SsoTokens).access_token
    const c = pool.connect(s.url, roomName('platform', 'replay'), access)
    await c.synced()
    const replay = await s.grant(form)
    expect(replay).toMatchObject({ status: 400, body: { error: 'invalid_grant' } })
    expect((await c.closed).code).toBe(CLOSE.revoked)
  })

  it('never redirects to an address that is not a loopback', async () => {
    for (const redirect of [
      'https://evil.example/cb',
      'http://localhost:5000/cb',
      'http://127.0.0.1/cb',
      'http://127.0.0.1:5000/cb?x=1',
      'http://user@127.0.0.1:5000/cb',
      'javascript:alert(1)',
    ]) {
      const url = new URL(`${s.base}${IDENTITY_PATHS.authorize}`)
      url.searchParams.set('redirect_uri', redirect)
      url.searchParams.set('state', 'abcdefgh12')
      url.searchParams.set('code_challenge', 'a'.repeat(43))
      url.searchParams.set('code_challenge_method', 'S256')
      const r = await fetch(url, { redirect: 'manual' })
      expect(r.status, redirect).toBe(400)
      expect(r.headers.get('location')).toBeNull()
    }
  })

  it('asks which team when the groups grant several, and the app can name it', async () => {
    idp.setGroups('eve', ['platform-eng', 'data-team'])
    const ua = new UserAgent()
    const r1 = 'http://127.0.0.1:9/cb'
    const url = new URL(`${s.base}${IDENTITY_PATHS.authorize}`)
    const pair = pkcePair()
    url.searchParams.set('redirect_uri', r1)
    url.searchParams.set('state', 'state-eve-1234')
    url.searchParams.set('code_challenge', pair.challenge)
    url.searchParams.set('code_challenge_method', 'S256')
    const stop = (u: URL) => u.href.startsWith(r1)
    const chooser = await throughIdp(ua, await ua.open(url.href, {}, stop), 'eve', stop)
    expect(chooser.html).toContain('Choose a team')
    const landed = await ua.submit(chooser, { team: 'data' }, stop)
    const code = new URL(landed.location!).searchParams.get('code')!
    const t = await s.grant({
      grant_type: 'authorization_code',
      code,
      code_verifier: pair.verifier,
      redirect_uri: r1,
    })
    expect(t.body).toMatchObject({ team: 'data', role: 'junior' })
  })
})

describe('refresh', () => {
  it('rotates the refresh token; reusing an old one ends the session and its connections', async () => {
    idp.setGroups('finn', ['platform-eng'])
    const t1 = await appTokens('finn')
    const r2 = await s.grant({ grant_type: 'refresh_token', refresh_token: t1.refresh_token })
    expect(r2.status).toBe(200)
    const t2 = r2.body as unknown as SsoTokens
    expect(t2.refresh_token).not.toBe(t1.refresh_token)
    const c = pool.connect(s.url, roomName('platform', 'finn'), t2.access_token)
    await c.synced()
    const reuse = await s.grant({ grant_type: 'refresh_token', refresh_token: t1.refresh_token })
    expect(reuse).toMatchObject({ status: 400, body: { error: 'invalid_grant' } })
    expect((await c.closed).code).toBe(CLOSE.revoked)
    const after = await s.grant({ grant_type: 'refresh_token', refresh_token: t2.refresh_token })
    expect(after.body.error).toBe('invalid_grant')
    expect(
      (await records('platform')).some(
        (r) => r.kind === 'sso.revoke' && r.data.reason === 'refresh token reused',
      ),
    ).toBe(true)
  })

  it('a group change lowers the role, then removing the group removes access and closes connections', async () => {
    idp.setGroups('gus', ['platform-admins'])
    const t1 = await appTokens('gus')
    expect(t1.role).toBe('admin')
    const c = pool.connect(s.url, roomName('platform', 'gus'), t1.access_token)
    await c.synced()
    idp.setGroups('gus', ['platform-eng'])
    const r2 = await s.grant({ grant_type: 'refresh_token', refresh_token: t1.refresh_token })
    expect(r2.body).toMatchObject({ role: 'engineer' })
    // The open connection follows the member's new role at once.
    expect((await s.storage.getMember('platform', 'gus@example.com'))?.role).toBe('engineer')
    idp.setGroups('gus', ['marketing'])
    // Still in example.com: readonly by the email rule. Remove that too by leaving the domain.
    await s.map('platform', [
      { match: 'group', value: 'platform-eng', role: 'engineer' },
      { match: 'group', value: 'platform-admins', role: 'admin' },
    ])
    const t2 = r2.body as unknown as SsoTokens
    const c2 = pool.connect(s.url, roomName('platform', 'gus2'), t2.access_token)
    await c2.synced()
    const r3 = await s.grant({ grant_type: 'refresh_token', refresh_token: t2.refresh_token })
    expect(r3).toMatchObject({ status: 400, body: { error: 'access_denied' } })
    const closed = await c2.closed
    expect([CLOSE.revoked, CLOSE.notMember]).toContain(closed.code)
    expect(await s.storage.getMember('platform', 'gus@example.com')).toBeNull()
    const kinds = (await records('platform'))
      .filter((r) => r.data.user === 'gus@example.com')
      .map((r) => r.kind)
    expect(kinds).toEqual(
      expect.arrayContaining(['member.add', 'member.set-role', 'sso.revoke', 'member.remove']),
    )
    await s.map('platform', [
      { match: 'group', value: 'platform-eng', role: 'engineer' },
      { match: 'group', value: 'platform-admins', role: 'admin' },
      { match: 'emailDomain', value: 'example.com', role: 'readonly' },
    ])
  })

  it('sign-out revokes the session at the server', async () => {
    idp.setGroups('hal', ['platform-eng'])
    const t = await appTokens('hal')
    const c = pool.connect(s.url, roomName('platform', 'hal'), t.access_token)
    await c.synced()
    const r = await fetch(`${s.base}${IDENTITY_PATHS.revoke}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: t.refresh_token }).toString(),
    })
    expect(r.status).toBe(200)
    expect((await c.closed).code).toBe(CLOSE.revoked)
    const again = await s.grant({ grant_type: 'refresh_token', refresh_token: t.refresh_token })
    expect(again.body.error).toBe('invalid_grant')
    expect(
      (await records('platform')).some(
        (x) => x.kind === 'sso.signout' && x.actor === 'hal@example.com',
      ),
    ).toBe(true)
  })
})

describe('device flow', () => {
  it('relays the IdP’s device grant for the CLI', async () => {
    idp.setGroups('ivy', ['platform-eng'])
    const start = await fetch(`${s.base}${IDENTITY_PATHS.device}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    })
    expect(start.status).toBe(200)
    const d = (await start.json()) as {
      device_code: string
      verification_uri_complete: string
      interval: number
    }
    const pending = await s.grant({ grant_type: DEVICE_GRANT, device_code: d.device_code })
    expect(pending.body.error).toBe('authorization_pending')
    const tooSoon = await s.grant({ grant_type: DEVICE_GRANT, device_code: d.device_code })
    expect(tooSoon.body.error).toBe('slow_down')
    const ua = new UserAgent()
    const done = await throughIdp(ua, await ua.open(d.verification_uri_complete), 'ivy')
    expect(done.html).toContain('Sign-in Success')
    let tokens: Record<string, unknown> = {}
    for (let i = 0; i < 20 && tokens.access_token === undefined; i++) {
      await new Promise((r) => setTimeout(r, d.interval * 1000))
      const r = await s.grant({ grant_type: DEVICE_GRANT, device_code: d.device_code })
      if (r.status === 200) tokens = r.body
      else expect(['authorization_pending', 'slow_down']).toContain(r.body.error)
    }
    expect(tokens).toMatchObject({ team: 'platform', user: 'ivy@example.com', role: 'engineer' })
    const reuse = await s.grant({ grant_type: DEVICE_GRANT, device_code: d.device_code })
    expect(reuse.body.error).toBe('invalid_grant')
  }, 60_000)
})

describe('the IdP’s keys', () => {
  it('follows a key rotation at the IdP (the new key is fetched for its kid)', async () => {
    idp.setGroups('jo', ['platform-eng'])
    await appTokens('jo')
    await idp.rotateKeys({ dropOld: true })
    await idp.configure({ redirectUris: [`${s.base}${IDENTITY_PATHS.callback}`] })
    const t = await appTokens('jo')
    expect(t.role).toBe('engineer')
  })

  it('refuses an ID token that expired by the server’s clock', async () => {
    idp.setGroups('kim', ['platform-eng'])
    s.clock.advance(3 * 3600_000)
    try {
      const { landing } = await appSignIn(s.base, 'kim')
      expect(landing.searchParams.get('error')).toBe('access_denied')
      expect(landing.searchParams.get('error_description')).toContain('expired')
    } finally {
      s.clock.advance(-3 * 3600_000)
    }
  })
})

describe('hostile input', () => {
  const post = (path: string, body: string, type = 'application/x-www-form-urlencoded') =>
    fetch(`${s.base}${path}`, { method: 'POST', headers: { 'content-type': type }, body })

  it('answers malformed token requests with OAuth errors, quickly, and keeps serving', async () => {
    const started = performance.now()
    const cases: Array<[string, string, number]> = [
      ['grant_type=password&username=a&password=b', 'unsupported_grant_type', 400],
      ['grant_type=refresh_token&refresh_token=' + 'A'.repeat(200), 'invalid_grant', 400],
      ['grant_type=refresh_token&refresh_token=%00%1b%5b31m', 'invalid_grant', 400],
      [
        'grant_type=authorization_code&code=nope&code_verifier=x&redirect_uri=x',
        'invalid_grant',
        400,
      ],
      [
        `grant_type=${encodeURIComponent(DEVICE_GRANT)}&device_code=${'b'.repeat(43)}`,
        'invalid_grant',
        400,
      ],
    ]
    for (const [body, error, status] of cases) {
      const r = await post(IDENTITY_PATHS.token, body)
      expect(r.status, body.slice(0, 60)).toBe(status)
      expect(((await r.json()) as { error: string }).error).toBe(error)
    }
    // Twice the same parameter, a body too big, a body of the wrong type.
    expect((await post(IDENTITY_PATHS.token, 'grant_type=refresh_token&grant_type=x')).status).toBe(
      400,
    )
    expect((await post(IDENTITY_PATHS.token, 'x='.padEnd(100_000, 'a'))).status).toBe(413)
    expect((await post(IDENTITY_PATHS.token, '<xml/>', 'text/xml')).status).toBe(415)
    expect((await post(IDENTITY_PATHS.token, '['.repeat(50_000), 'application/json')).status).toBe(
      413,
    )
    expect(
      (await post(IDENTITY_PATHS.token, '{"grant_type":["a"]}', 'application/json')).status,
    ).toBe(400)
    expect(performance.now() - started).toBeLessThan(5_000)
    expect((await fetch(`${s.base}${IDENTITY_PATHS.config}`)).status).toBe(200)
  })

  it('refuses callbacks it did not start, and bad authorize parameters', async () => {
    for (const q of [
      '',
      '?state=x',
      `?state=${'s'.repeat(500)}&code=c`,
      '?state=%00%1b&code=c',
      '?error=access_denied',
    ]) {
      const r = await fetch(`${s.base}${IDENTITY_PATHS.callback}${q}`, { redirect: 'manual' })
      expect(r.status, q).toBe(400)
      expect(r.headers.get('location')).toBeNull()
    }
    const url = new URL(`${s.base}${IDENTITY_PATHS.authorize}`)
    url.searchParams.set('redirect_uri', 'http://127.0.0.1:9/cb')
    url.searchParams.set('state', 'short')
    url.searchParams.set('code_challenge_method', 'plain')
    const r = await fetch(url, { redirect: 'manual' })
    expect(r.status).toBe(302)
    const back = new URL(r.headers.get('location')!)
    expect(back.origin + back.pathname).toBe('http://127.0.0.1:9/cb')
    expect(back.searchParams.get('error')).toBe('invalid_request')
    const team = await fetch(
      `${s.base}${IDENTITY_PATHS.console}?team=${encodeURIComponent('../x')}`,
      {
        redirect: 'manual',
      },
    )
    expect(team.status).toBe(400)
  })

  it('keeps the mapping to admins and validates it', async () => {
    idp.setGroups('lea', ['platform-eng'])
    const eng = await appTokens('lea')
    expect((await s.api(eng.access_token, 'GET', IDENTITY_PATHS.mapping)).status).toBe(403)
    const adminToken = await s.admin
      .tokenCreate({ team: 'platform', user: 'root', role: 'admin', ttl: '1h' })
      .then((t) => t.token)
    const got = await s.api(adminToken, 'GET', IDENTITY_PATHS.mapping)
    expect((got.body.rules as unknown[]).length).toBe(3)
    for (const bad of [
      { rules: [{ match: 'group', value: 'x', role: 'god' }] },
      { rules: [{ match: 'claim', value: 'x', role: 'admin' }] },
      {
        rules: Array.from({ length: 500 }, () => ({
          match: 'group',
          value: 'g',
          role: 'readonly',
        })),
      },
      { rules: [], extra: 1 },
    ]) {
      const r = await s.api(adminToken, 'POST', IDENTITY_PATHS.mapping, bad)
      expect(r.status).toBe(400)
    }
    expect((await s.api('garbage', 'GET', IDENTITY_PATHS.mapping)).status).toBe(401)
    expect(
      ((await s.api(adminToken, 'GET', IDENTITY_PATHS.mapping)).body.rules as unknown[]).length,
    ).toBe(3)
  })
})

describe('housekeeping', () => {
  it('forgets expired single sign-on access tokens, never other tokens', async () => {
    const old = Date.now() - 3600_000
    const row = (jti: string, label: string | null) => ({
      jti,
      team: 'platform',
      user: 'ana@example.com',
      role: 'engineer' as const,
      label,
      kid: 'k',
      createdAt: old - 900_000,
      expiresAt: old,
      revokedAt: null,
    })
    await s.storage.insertToken(row('sso-expired-0001', 'sso:some-session'))
    await s.storage.insertToken(row('hand-expired-0001', 'laptop'))
    await s.sso.tick()
    expect(await s.storage.getToken('sso-expired-0001')).toBeNull()
    expect(await s.storage.getToken('hand-expired-0001')).not.toBeNull()
  })
})
