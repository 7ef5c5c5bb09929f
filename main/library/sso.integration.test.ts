import { statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Channel, RequestArgs, RequestResult } from '../../contract'
import { ELEVATION_PATHS, type Elevation } from '../../contract/identity'
import { throughIdp } from '../../sync-server/oidc/testing/flows'
import { startSsoServer, type SsoServer } from '../../sync-server/oidc/testing/sso-server'
import { startTestIdp, type TestIdp } from '../../sync-server/oidc/testing/test-idp'
import { UserAgent } from '../../sync-server/oidc/testing/user-agent'
import { tempRoot } from '../../sync-server/testing/harness'
import { Router } from '../ipc/router'
import { waitFor } from '../testing/wait-for'
import { registerIdentityHandlers } from './identity-domain'
import { openLibraries, type Libraries } from './open'

/**
 * The app's sign-in against a real IdP (oidc-provider, its own pages) and the real team server:
 * the loopback redirect of RFC 8252 with PKCE into the main process, the session stored as team
 * tokens are (0600), refreshed before it expires with the documents reconnecting, a group change
 * ending it, an elevation asked for from the app and seen on the live connection, sign-out.
 */
const { root, cleanup } = tempRoot('cmdai-app-sso-')
let idp: TestIdp
let s: SsoServer
let libs: Libraries
const router = new Router()
let stop: () => void

async function call<C extends Channel>(
  channel: C,
  args: RequestArgs<C>,
  transport?: 'control',
): Promise<RequestResult<C>> {
  const r = await router.dispatch(channel, args, {
    clientId: 't',
    ...(transport ? { transport } : {}),
  })
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`)
  return r.value as RequestResult<C>
}

/** The system browser: opens the URL the app gives and signs in at the IdP. */
async function browser(url: string, user: string): Promise<string> {
  const ua = new UserAgent()
  const page = await throughIdp(ua, await ua.open(url), user)
  return page.html
}

beforeAll(async () => {
  idp = await startTestIdp()
  s = await startSsoServer(root, 'srv', idp, { accessTokenSeconds: 120 })
  await s.map('platform', [
    { match: 'group', value: 'eng', role: 'engineer' },
    { match: 'group', value: 'juniors', role: 'junior' },
  ])
  libs = await openLibraries({
    dataDir: join(root, 'app'),
    owner: 'app',
    connect: true,
    starter: [],
    maxBackoffMs: 300,
  })
  stop = registerIdentityHandlers(router, async () => libs)
}, 120_000)

afterAll(async () => {
  stop?.()
  await libs?.close()
  await s?.close()
  await idp?.close()
  cleanup()
})

describe('the app signs in with the IdP', () => {
  it('through the system browser and a loopback redirect, then joins a library', async () => {
    idp.setGroups('ana', ['eng'])
    const { flow, url } = await call('identity:signIn', { server: s.base })
    expect(url.startsWith(`${s.base}/auth/sso/authorize?`)).toBe(true)
    const redirect = new URL(url).searchParams.get('redirect_uri')!
    expect(redirect).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback\/[A-Za-z0-9_-]+$/)
    const waiting = call('identity:signInWait', { flow, library: 'deploy' })
    const done = await browser(url, 'ana')
    expect(done).toContain('You are signed in to platform')
    expect(await waiting).toEqual({
      team: 'platform',
      user: 'ana@example.com',
      role: 'engineer',
      library: 'platform/deploy',
    })
    await waitFor('synced', () => libs.hub.get('platform/deploy').sync.state === 'synced')
    expect(libs.hub.get('platform/deploy').sync.role).toBe('engineer')
    // Stored as the sync token is: a 0600 file (no keychain under Node), refresh token included.
    const file = join(root, 'app', 'library', 'credentials.json')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(libs.credentials.refreshToken(s.base, 'platform')).toMatch(/\./)
    // The loopback listener is gone once it has its answer.
    await expect(fetch(redirect)).rejects.toThrow()
  })

  it('refreshes before expiry and the documents carry on with the new token', async () => {
    const before = libs.credentials.get(s.base, 'platform')!
    const refreshBefore = libs.credentials.refreshToken(s.base, 'platform')
    const token = await libs.sessions.refresh(s.base, 'platform')
    expect(token).not.toBe(before)
    expect(libs.credentials.refreshToken(s.base, 'platform')).not.toBe(refreshBefore)
    await waitFor('synced', () => libs.hub.get('platform/deploy').sync.state === 'synced')
    const edited = await libs.hub.save('platform/deploy', {
      title: 'After refresh',
      command: 'echo refreshed',
    })
    expect(edited.author).toBe('ana@example.com')
  })

  it('shows the effective role and an elevation with its end, and refuses local programs', async () => {
    idp.setGroups('ana', ['juniors'])
    await libs.sessions.refresh(s.base, 'platform')
    await waitFor('junior', () => libs.hub.get('platform/deploy').sync.role === 'junior')
    await expect(
      call(
        'identity:elevate',
        { team: 'platform', role: 'engineer', durationMs: 3600_000, reason: 'agent says so' },
        'control',
      ),
    ).rejects.toThrow(/forbidden/)
    const asked = await call('identity:elevate', {
      team: 'platform',
      role: 'engineer',
      durationMs: 3600_000,
      reason: 'fix the deploy runbook',
    })
    expect(asked.status).toBe('pending')
    const admin = await s.admin
      .tokenCreate({ team: 'platform', user: 'root', role: 'admin', ttl: '1h' })
      .then((t) => t.token)
    const approved = await s.api(admin, 'POST', `${ELEVATION_PATHS.list}/${asked.id}/decision`, {
      decision: 'approve',
    })
    expect((approved.body as unknown as Elevation).status).toBe('active')
    await waitFor('engineer', () => libs.hub.get('platform/deploy').sync.role === 'engineer')
    expect(libs.hub.get('platform/deploy').readOnly).toBe(false)
    const { teams } = await call('identity:status', {})
    expect(teams).toHaveLength(1)
    expect(teams[0]).toMatchObject({ team: 'platform', sso: true })
    expect(teams[0]!.view).toMatchObject({ role: 'engineer', baseRole: 'junior', via: 'sso' })
    expect(teams[0]!.view!.elevation!.expiresAt).toBeGreaterThan(Date.now() + 3500_000)
    const ended = await call('identity:endElevation', { team: 'platform', id: asked.id })
    expect(ended.status).toBe('ended')
    await waitFor('junior', () => libs.hub.get('platform/deploy').sync.role === 'junior')
  })

  it('loses the session when the groups no longer grant access', async () => {
    idp.setGroups('ana', ['marketing'])
    expect(await libs.sessions.refresh(s.base, 'platform')).toBeNull()
    const sync = libs.hub.get('platform/deploy').sync
    expect(sync.state).toBe('refused')
    expect(sync.reason).toMatch(/no longer grant access/)
    expect(libs.credentials.refreshToken(s.base, 'platform')).toBeNull()
  })

  it('signs out: the server revokes the session and the app forgets it', async () => {
    idp.setGroups('bo', ['eng'])
    const { flow, url } = await call('identity:signIn', { server: s.base })
    const waiting = call('identity:signInWait', { flow })
    await browser(url, 'bo')
    expect((await waiting).user).toBe('bo@example.com')
    const refresh = libs.credentials.refreshToken(s.base, 'platform')!
    await call('identity:signOut', { team: 'platform' })
    expect(libs.credentials.get(s.base, 'platform')).toBeNull()
    const again = await s.grant({ grant_type: 'refresh_token', refresh_token: refresh })
    expect(again.body.error).toBe('invalid_grant')
  })

  it('refuses a sign-in with a server without single sign-on, and a stray loopback request', async () => {
    await expect(call('identity:signIn', { server: 'http://127.0.0.1:9' })).rejects.toThrow(
      /unavailable/,
    )
    const { flow, url } = await call('identity:signIn', { server: s.base })
    const redirect = new URL(url).searchParams.get('redirect_uri')!
    const forged = await fetch(`${redirect}?code=stolen&state=not-the-state`)
    expect(forged.status).toBe(400)
    const wrongPath = await fetch(new URL('/other', redirect))
    expect(wrongPath.status).toBe(404)
    await call('identity:cancel', { flow })
    await expect(call('identity:signInWait', { flow })).rejects.toThrow(/not_found/)
  })
})
