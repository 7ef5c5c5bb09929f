import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONSOLE_COOKIE, type ConsoleSession } from '../../contract/console'
import { IDENTITY_PATHS, type Elevation } from '../../contract/identity'
import type { AuditRecord } from '../../contract/sync'
import { parseRecord } from '../audit/audit-log'
import { issueSigninCode } from '../console/sessions'
import { ConsoleClient } from '../console/testing'
import { tempRoot } from '../testing/harness'
import { throughIdp } from './testing/flows'
import { startSsoServer, type SsoServer } from './testing/sso-server'
import { startTestIdp, type TestIdp } from './testing/test-idp'
import { UserAgent } from './testing/user-agent'

/**
 * The console's side of single sign-on and elevation, on a server with all three extensions: the
 * routes by role (mapping for admins, elevations for everyone by the API's own rules), CSRF, a
 * console signed in through the IdP losing its session when the IdP's groups no longer grant
 * access, and the printed-link sign-in recorded as break-glass while SSO is on.
 */
const { root, cleanup } = tempRoot('cmdai-sso-console-')
let idp: TestIdp
let s: SsoServer
let base: string

async function signIn(
  team: string,
  user: string,
  role: 'admin' | 'engineer' | 'junior' | 'readonly',
) {
  if (!(await s.storage.getMember(team, user))) await s.token(team, user, role)
  const { code } = await issueSigninCode(
    { storage: s.storage, commit: (e) => s.server.commit(e), now: () => Date.now() },
    { team, user, createdBy: 'test' },
  )
  const res = await fetch(`${base}/admin/signin?code=${code}`, { redirect: 'manual' })
  const cookie = /^([^;]+)/.exec(res.headers.get('set-cookie') ?? '')![1]!
  const client = new ConsoleClient(base, cookie, '')
  client.csrf = ((await client.get('/session')).json as ConsoleSession).csrf
  return client
}

async function records(team: string): Promise<AuditRecord[]> {
  const out: AuditRecord[] = []
  for await (const line of s.audit.lines(team)) out.push(parseRecord(line.line))
  return out
}

beforeAll(async () => {
  idp = await startTestIdp()
  s = await startSsoServer(root, 'srv', idp, { withConsole: true, consoleRecheckMs: 0 })
  base = s.base
  await s.map('ops', [{ match: 'group', value: 'ops-admins', role: 'admin' }])
})

afterAll(async () => {
  await s?.close()
  await idp?.close()
  cleanup()
})

describe('console routes for sign-in and elevation', () => {
  it('keeps the mapping to admins, and elevations to the API’s rules', async () => {
    const viewer = await signIn('ops', 'rita', 'readonly')
    expect((await viewer.get('/identity/config')).json).toEqual({ sso: true, issuer: idp.issuer })
    expect((await viewer.get('/identity/mapping')).status).toBe(403)
    expect((await viewer.post('/identity/mapping', { rules: [] })).status).toBe(403)
    expect((await viewer.post('/identity/elevation-policy', { rules: [] })).status).toBe(403)
    const asked = await viewer.post('/identity/elevations', {
      role: 'engineer',
      durationMs: 1800_000,
      reason: 'review a runbook',
    })
    expect(asked.status).toBe(200)
    const e = asked.json as Elevation
    expect(e.status).toBe('pending')
    // Her own request: seen, never decided by her.
    expect(
      ((await viewer.get('/identity/elevations')).json as { elevations: Elevation[] }).elevations,
    ).toHaveLength(1)
    expect(
      (await viewer.post(`/identity/elevations/${e.id}/decision`, { decision: 'approve' })).status,
    ).toBe(403)

    const admin = await signIn('ops', 'ada', 'admin')
    expect((await admin.get('/identity/mapping')).json).toEqual({
      rules: [{ match: 'group', value: 'ops-admins', role: 'admin' }],
    })
    const bad = await admin.post('/identity/mapping', {
      rules: [{ match: 'group', value: '', role: 'admin' }],
    })
    expect(bad.status).toBe(400)
    const noCsrf = await admin.post('/identity/mapping', { rules: [] }, { 'x-cmdai-csrf': 'wrong' })
    expect(noCsrf.status).toBe(403)
    const approved = await admin.post(`/identity/elevations/${e.id}/decision`, {
      decision: 'approve',
    })
    expect((approved.json as Elevation).status).toBe('active')
    const ended = await admin.post(`/identity/elevations/${e.id}/end`, { comment: 'enough' })
    expect((ended.json as Elevation).status).toBe('ended')
    const policy = await admin.post('/identity/elevation-policy', {
      rules: [{ from: 'engineer', to: 'admin', maxMinutes: 30, approvals: 0 }],
    })
    expect(policy.status).toBe(200)
    const kinds = (await records('ops')).map((r) => r.kind)
    expect(kinds).toEqual(
      expect.arrayContaining([
        'elevation.request',
        'elevation.approve',
        'elevation.grant',
        'elevation.end',
        'elevation.policy',
      ]),
    )
  })

  it('records a printed-link sign-in as break-glass while SSO is on', async () => {
    await signIn('ops', 'glass', 'admin')
    let found: AuditRecord | undefined
    for (let i = 0; i < 50 && !found; i++) {
      found = (await records('ops')).find(
        (r) => r.kind === 'sso.break-glass' && r.actor === 'glass',
      )
      if (!found) await new Promise((r) => setTimeout(r, 50))
    }
    expect(found?.data.session).toBeTruthy()
  })

  it('ends an SSO console session when the IdP’s groups no longer grant access', async () => {
    idp.setGroups('otto', ['ops-admins'])
    const ua = new UserAgent()
    const stop = (u: URL) => u.pathname.startsWith('/admin')
    const first = await ua.open(`${base}${IDENTITY_PATHS.console}`, {}, stop)
    await throughIdp(ua, first, 'otto', stop)
    const cookie = `${CONSOLE_COOKIE}=${ua.cookie(base, CONSOLE_COOKIE)}`
    const client = new ConsoleClient(base, cookie, '')
    const session = (await client.get('/session')).json as ConsoleSession
    expect(session).toMatchObject({ user: 'otto@example.com', role: 'admin' })
    // Signed in through the IdP: a console sign-in by SSO, not the break-glass link.
    const signins = (await records('ops')).filter(
      (r) => r.kind === 'console.signin' && r.actor === 'otto@example.com',
    )
    expect(signins.map((r) => r.data.via)).toEqual(['sso'])
    expect(
      (await records('ops')).some(
        (r) => r.kind === 'sso.break-glass' && r.actor === 'otto@example.com',
      ),
    ).toBe(false)
    idp.setGroups('otto', [])
    await s.sso.tick()
    expect((await client.get('/session')).status).toBe(401)
    expect(await s.storage.getMember('ops', 'otto@example.com')).toBeNull()
  })
})
