import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONSOLE_ACCESS, CSRF_HEADER } from '../../contract/console'
import { ROLES, roleAtLeast, type Role } from '../../contract/sync'
import { initSafety } from '../../main/safety/analyze'
import { freshDataDir, tempRoot } from '../testing/harness'
import { ConsoleClient, startConsoleServer, type ConsoleTestServer } from './testing'

/**
 * Console sign-in and authorisation against a real server: the one-time link, the cookie, CSRF,
 * sign-out, and the role of every registered route (the table below must name each one, so a
 * route added without deciding who may use it fails here), plus hostile requests.
 */
const EXPECTED: Record<string, Role> = {
  'GET /session': 'readonly',
  'POST /signout': 'readonly',
  'GET /tokens': 'admin',
  'POST /tokens/revoke': 'admin',
  'GET /sessions': 'admin',
  'POST /sessions/end': 'admin',
  'GET /members': 'admin',
  'POST /members/role': 'admin',
  'POST /members/remove': 'admin',
  'GET /invites': 'admin',
  'POST /invites': 'admin',
  'POST /invites/revoke': 'admin',
  'GET /libraries': 'readonly',
  'GET /libraries/:name': 'readonly',
  'GET /policy': 'readonly',
  'POST /policy': 'admin',
  'POST /policy/try': 'readonly',
  'GET /settings': 'readonly',
  'POST /settings/telemetry': 'admin',
  'POST /settings/retention': 'admin',
  'GET /approvals': 'engineer',
  'POST /approvals/:id/decision': 'engineer',
  'GET /approvals/stream': 'engineer',
  'GET /audit': 'admin',
  'POST /audit/verify': 'admin',
  'GET /audit/export': 'admin',
  'GET /analytics': 'admin',
  'GET /webhooks': 'admin',
  'POST /webhooks': 'admin',
  'POST /webhooks/:id': 'admin',
  'POST /webhooks/:id/delete': 'admin',
  'POST /webhooks/:id/test': 'admin',
  'GET /webhooks/deliveries': 'admin',
  // Single sign-on and elevation (sync-server/console/routes/identity.ts, issue 13): every member
  // reads and asks; the services decide who may decide an elevation (an admin by member role).
  'GET /identity/config': 'readonly',
  'GET /identity/mapping': 'admin',
  'POST /identity/mapping': 'admin',
  'GET /identity/elevations': 'readonly',
  'POST /identity/elevations': 'readonly',
  'POST /identity/elevations/:id/decision': 'readonly',
  'POST /identity/elevations/:id/end': 'readonly',
  'GET /identity/elevation-policy': 'readonly',
  'POST /identity/elevation-policy': 'admin',
}

const tmp = tempRoot('cmdai-console-auth-')
let srv: ConsoleTestServer
const clients = {} as Record<Role, ConsoleClient>

beforeAll(async () => {
  await initSafety()
  srv = await startConsoleServer({ dir: await freshDataDir(tmp.root, 'auth') })
  for (const role of ROLES) clients[role] = await srv.signIn('acme', `u-${role}`, role)
})

afterAll(async () => {
  await srv?.close()
  tmp.cleanup()
})

const key = (r: { method: string; path: string }) => `${r.method} ${r.path}`

describe('authorisation of every console route', () => {
  it('registers exactly the routes this table names, each with the expected area', () => {
    const registered = srv.console.routes.map(key).sort()
    expect(registered).toEqual(Object.keys(EXPECTED).sort())
    for (const r of srv.console.routes) expect(CONSOLE_ACCESS[r.area]).toBe(EXPECTED[key(r)])
  })

  it('refuses each route to the roles below it and lets the others past the role check', async () => {
    const outcomes: string[] = []
    for (const r of srv.console.routes) {
      // Signing out would end the sessions this loop reuses (its own test is below).
      if (r.path === '/signout') continue
      const path = r.path.replace(/:[a-z]+/g, 'nope')
      for (const role of ROLES) {
        // A fresh sign-in per call would spend links; the roles' sessions are reused and the
        // bodies are invalid on purpose, so nothing changes.
        const c = clients[role]
        const ctrl = new AbortController()
        const res = await fetch(`${srv.base}/admin/api${path}`, {
          method: r.method,
          headers: {
            cookie: c.cookie,
            ...(r.method === 'POST'
              ? { 'content-type': 'application/json', [CSRF_HEADER]: c.csrf }
              : {}),
          },
          ...(r.method === 'POST' ? { body: JSON.stringify({ invalid: true }) } : {}),
          signal: ctrl.signal,
        })
        const text = res.headers.get('content-type')?.includes('event-stream')
          ? ''
          : await res.text()
        ctrl.abort()
        const denied = res.status === 403 && text.includes('cannot use this')
        const allowed = roleAtLeast(role, EXPECTED[key(r)]!)
        outcomes.push(`${key(r)} ${role}: ${res.status}`)
        expect(res.status, `${key(r)} as ${role}`).not.toBe(401)
        expect(denied, `${key(r)} as ${role}: ${res.status} ${text}`).toBe(!allowed)
      }
    }
    expect(outcomes.length).toBe((srv.console.routes.length - 1) * ROLES.length)
  })

  it('answers 401 to every route without a session, and 404 to unknown paths', async () => {
    for (const r of srv.console.routes) {
      const res = await fetch(`${srv.base}/admin/api${r.path.replace(/:[a-z]+/g, 'x')}`, {
        method: r.method,
        headers: { 'content-type': 'application/json' },
        ...(r.method === 'POST' ? { body: '{}' } : {}),
      })
      expect(res.status, key(r)).toBe(401)
    }
    expect((await clients.admin.get('/no/such/thing')).status).toBe(404)
    expect((await clients.admin.post('/session', {})).status).toBe(405)
  })
})

describe('sign-in', () => {
  it('trades a link once for an HttpOnly SameSite=Strict cookie and drops the code from the URL', async () => {
    await srv.token('acme', 'ana', 'admin')
    const link = await srv.link('acme', 'ana')
    const first = await fetch(link, { redirect: 'manual' })
    expect(first.status).toBe(303)
    expect(first.headers.get('location')).toBe('/admin/')
    const cookie = first.headers.get('set-cookie')!
    expect(cookie).toMatch(/^cmdai_console=[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}; /)
    expect(cookie).toContain('HttpOnly')
    expect(cookie).toContain('SameSite=Strict')
    expect(cookie).toContain('Path=/admin')
    const again = await fetch(link, { redirect: 'manual' })
    expect(again.status).toBe(401)
    expect(again.headers.get('set-cookie')).toBeNull()
    expect(await again.text()).toContain('does not work')
  })

  it('refuses made-up, malformed and hostile codes without a session', async () => {
    for (const code of ['x', 'A'.repeat(43), '%00%00', '../../etc', 'A'.repeat(5000), '<script>']) {
      const res = await fetch(`${srv.base}/admin/signin?code=${encodeURIComponent(code)}`, {
        redirect: 'manual',
      })
      expect([401, 429]).toContain(res.status)
      expect(res.headers.get('set-cookie')).toBeNull()
      expect(await res.text()).not.toContain('<script>')
    }
  })

  it('refuses a link for someone who is not a member', async () => {
    await expect(srv.link('acme', 'stranger')).rejects.toThrow(/not a member/)
  })

  it('ends the session at sign-out: the same cookie is refused afterwards', async () => {
    const c = await srv.signIn('acme', 'leaver', 'admin')
    expect((await c.get('/members')).status).toBe(200)
    const out = await c.post('/signout', {})
    expect(out.status).toBe(200)
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0')
    // Replaying the old cookie (and CSRF token) gets nothing.
    expect((await c.get('/members')).status).toBe(401)
    expect((await c.post('/invites', { role: 'junior', hours: 1 })).status).toBe(401)
  })

  it('applies a role change to an open session at once, and a removal ends it', async () => {
    const c = await srv.signIn('acme', 'demoted', 'admin')
    expect((await c.get('/members')).status).toBe(200)
    await srv.admin.memberSetRole({ team: 'acme', user: 'demoted', role: 'engineer' })
    expect((await c.get('/members')).status).toBe(403)
    expect((await c.get('/approvals')).status).toBe(200)
    await srv.admin.memberRemove({ team: 'acme', user: 'demoted' })
    expect((await c.get('/approvals')).status).toBe(401)
  })

  it('refuses a forged cookie', async () => {
    const real = clients.admin
    const forged = new ConsoleClient(
      srv.base,
      real.cookie.replace(/\.[A-Za-z0-9_-]{43}$/, '.' + 'A'.repeat(43)),
      real.csrf,
    )
    expect((await forged.get('/session')).status).toBe(401)
  })
})

describe('CSRF and hostile requests', () => {
  const admin = () => clients.admin

  it('refuses a change without the CSRF header, with a wrong one, or from another origin', async () => {
    const body = { role: 'junior', hours: 1 }
    expect((await admin().post('/invites', body, { [CSRF_HEADER]: '' })).status).toBe(403)
    expect((await admin().post('/invites', body, { [CSRF_HEADER]: 'x'.repeat(32) })).status).toBe(
      403,
    )
    const other = clients.engineer
    expect((await admin().post('/invites', body, { [CSRF_HEADER]: other.csrf })).status).toBe(403)
    expect((await admin().post('/invites', body, { origin: 'http://evil.example' })).status).toBe(
      403,
    )
    expect((await admin().post('/invites', body, { 'sec-fetch-site': 'cross-site' })).status).toBe(
      403,
    )
    expect((await admin().post('/invites', body, { origin: 'null' })).status).toBe(403)
    // Nothing was created by any of them.
    expect(((await admin().get('/invites')).json as { invites: unknown[] }).invites).toEqual([])
  })

  it('refuses wrong content types, bodies that are not JSON, huge bodies and deep nesting', async () => {
    const c = admin()
    const raw = (body: string, type = 'application/json') =>
      c.send('POST', '/policy/try', body, { 'content-type': type, [CSRF_HEADER]: c.csrf })
    expect((await raw('{"command":"ls"}', 'text/plain')).status).toBe(415)
    expect((await raw('command=ls', 'application/x-www-form-urlencoded')).status).toBe(415)
    expect((await raw('{"command":')).status).toBe(400)
    const started = performance.now()
    const huge = await raw(JSON.stringify({ command: 'x'.repeat(3 * 1024 * 1024) }))
    expect(huge.status).toBe(413)
    const deep = await raw('['.repeat(100_000) + ']'.repeat(100_000))
    expect(deep.status).toBe(400)
    expect(deep.text).toContain('nested deeper')
    expect(performance.now() - started).toBeLessThan(10_000)
    // Strings with NUL bytes and terminal escapes are data, not trouble.
    const odd = await raw(JSON.stringify({ command: 'echo \u0000\u001b]0;pwned\u0007', tags: [] }))
    expect(odd.status).toBe(200)
    // Unknown fields are refused rather than ignored.
    expect((await raw(JSON.stringify({ command: 'ls', admin: true }))).status).toBe(400)
    // Repeated query parameters are refused, not guessed.
    expect((await c.get('/analytics?days=1&days=2')).status).toBe(400)
    expect((await c.get('/audit?limit=100000')).status).toBe(400)
  })

  it('keeps serving other clients after hostile requests', async () => {
    expect((await clients.readonly.get('/session')).status).toBe(200)
  })
})
