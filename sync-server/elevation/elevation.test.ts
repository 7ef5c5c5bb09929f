import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ELEVATION_PATHS,
  IDENTITY_PATHS,
  type Elevation,
  type IdentityView,
} from '../../contract/identity'
import { readServerState, roomName, writePattern, type AuditRecord } from '../../contract/sync'
import { parseRecord } from '../audit/audit-log'
import {
  clientPool,
  freshDataDir,
  startTestServer,
  tempRoot,
  testPattern,
  waitUntil,
  type TestClient,
  type TestServer,
} from '../testing/harness'
import { createElevation, type ElevationService } from '.'

/**
 * Just-in-time elevation on a real server over a real data dir, with live y-websocket clients: a
 * junior asks to be an engineer for an hour, an admin approves, the junior writes, the clock moves
 * on and the role is gone again, every step in the audit log; team rules that grant at once or
 * need two people for production; ending early; expiry across a restart; hostile requests.
 */
const { root, cleanup } = tempRoot('cmdai-elev-')
const pool = clientPool()
let offset = 0
const clock = { now: () => Date.now() + offset }
let dir: string
let s: TestServer & { elevation: ElevationService }
let base: string

async function start(): Promise<void> {
  let elevation: ElevationService | null = null
  const server = await startTestServer({
    dir,
    extensions: [(deps) => (elevation = createElevation(deps, { now: clock.now }))],
  })
  s = Object.assign(server, { elevation: elevation! })
  base = `http://127.0.0.1:${server.port}`
}

async function call<T = Record<string, unknown>>(
  token: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  })
  return { status: r.status, body: (await r.json()) as T }
}

async function records(team: string): Promise<AuditRecord[]> {
  const out: AuditRecord[] = []
  for await (const line of s.audit.lines(team)) out.push(parseRecord(line.line))
  return out
}

const serverRole = (c: TestClient) => readServerState(c.provider.awareness.getStates())

let admin: string
let admin2: string
let junior: string
let engineer: string

beforeAll(async () => {
  dir = await freshDataDir(root, 'elev')
  await start()
  admin = await s.token('ops', 'ada', 'admin')
  admin2 = await s.token('ops', 'bob', 'admin')
  junior = await s.token('ops', 'jun', 'junior')
  engineer = await s.token('ops', 'eng', 'engineer')
})

afterAll(async () => {
  pool.destroyAll()
  await s?.close()
  cleanup()
})

describe('request, approve, use, expire', () => {
  it('a junior becomes an engineer for an hour with an admin’s approval, then loses it on time', async () => {
    const c = pool.connect(s.url, roomName('ops', 'runbooks'), junior)
    await c.synced()
    await waitUntil('junior role', () => serverRole(c)?.role === 'junior')
    expect(serverRole(c)?.readOnly).toBe(true)

    const asked = await call<Elevation>(junior, 'POST', ELEVATION_PATHS.list, {
      role: 'engineer',
      durationMs: 3600_000,
      reason: 'incident INC-42: roll back deploy',
    })
    expect(asked.status).toBe(201)
    expect(asked.body).toMatchObject({ status: 'pending', approvalsNeeded: 1, rule: 'default' })

    const self = await call(junior, 'POST', `${ELEVATION_PATHS.list}/${asked.body.id}/decision`, {
      decision: 'approve',
    })
    expect(self.status).toBe(403)
    expect((self.body as { message: string }).message).toContain('own')
    const notAdmin = await call(
      engineer,
      'POST',
      `${ELEVATION_PATHS.list}/${asked.body.id}/decision`,
      {
        decision: 'approve',
      },
    )
    expect(notAdmin.status).toBe(404)

    const approved = await call<Elevation>(
      admin,
      'POST',
      `${ELEVATION_PATHS.list}/${asked.body.id}/decision`,
      { decision: 'approve', comment: 'go' },
    )
    expect(approved.body).toMatchObject({ status: 'active' })
    expect(approved.body.expiresAt! - approved.body.startsAt!).toBe(3600_000)

    // Used: the open connection is an engineer now and its write is stored.
    await waitUntil('elevated', () => serverRole(c)?.role === 'engineer')
    expect(serverRole(c)).toMatchObject({ readOnly: false, baseRole: 'junior' })
    expect(serverRole(c)?.elevatedUntil).toBe(approved.body.expiresAt)
    writePattern(c.doc, testPattern('rollback', { author: 'jun' }))
    const other = pool.connect(s.url, roomName('ops', 'runbooks'), admin)
    await other.synced()
    await waitUntil('write relayed', () => other.doc.getMap('patterns').has('rollback'))
    const me = await call<IdentityView>(junior, 'GET', IDENTITY_PATHS.me)
    expect(me.body).toMatchObject({ role: 'engineer', baseRole: 'junior', via: 'token' })

    // An hour later (the clock moved, nobody slept): back to junior, read-only.
    offset += 3600_000 + 1_000
    await s.server.recheckConnections()
    await waitUntil('expired', () => serverRole(c)?.role === 'junior')
    expect(serverRole(c)?.readOnly).toBe(true)
    expect(serverRole(c)?.elevatedUntil).toBeUndefined()
    const after = await call<IdentityView>(junior, 'GET', IDENTITY_PATHS.me)
    expect(after.body).toMatchObject({ role: 'junior', elevation: null })

    const steps = (await records('ops'))
      .filter((r) => r.kind.startsWith('elevation.') && r.data.id === asked.body.id)
      .map((r) => `${r.kind}:${r.actor}`)
    expect(steps).toEqual([
      'elevation.request:jun',
      'elevation.approve:ada',
      'elevation.grant:system',
      'elevation.expire:system',
    ])
    const expiredRecord = (await records('ops')).find(
      (r) => r.kind === 'elevation.expire' && r.data.id === asked.body.id,
    )
    expect(expiredRecord?.data.at).toBe(approved.body.expiresAt)
  })

  it('a denied request grants nothing, and an unanswered one lapses', async () => {
    const asked = await call<Elevation>(junior, 'POST', ELEVATION_PATHS.list, {
      role: 'admin',
      durationMs: 600_000,
      reason: 'just because',
    })
    const denied = await call<Elevation>(
      admin,
      'POST',
      `${ELEVATION_PATHS.list}/${asked.body.id}/decision`,
      { decision: 'deny', comment: 'no' },
    )
    expect(denied.body).toMatchObject({ status: 'denied', closedBy: 'ada', comment: 'no' })
    const again = await call<Elevation>(junior, 'POST', ELEVATION_PATHS.list, {
      role: 'engineer',
      durationMs: 600_000,
      reason: 'waiting for nobody',
    })
    expect(again.body.status).toBe('pending')
    offset += 3600_000 + 1
    const list = await call<{ elevations: Elevation[] }>(junior, 'GET', ELEVATION_PATHS.list)
    expect(list.body.elevations.find((e) => e.id === again.body.id)?.status).toBe('lapsed')
  })
})

describe('team rules', () => {
  it('grants at once by rule, caps the duration, and wants a second person for production', async () => {
    const policy = await call(admin, 'POST', ELEVATION_PATHS.policy, {
      rules: [
        {
          from: 'engineer',
          to: 'admin',
          maxMinutes: 30,
          approvals: 0,
          productionApprovals: 2,
          note: 'incident',
        },
      ],
    })
    expect(policy.status).toBe(200)
    const tooLong = await call(engineer, 'POST', ELEVATION_PATHS.list, {
      role: 'admin',
      durationMs: 3600_000,
      reason: 'incident',
    })
    expect(tooLong).toMatchObject({ status: 400 })
    const auto = await call<Elevation>(engineer, 'POST', ELEVATION_PATHS.list, {
      role: 'admin',
      durationMs: 1800_000,
      reason: 'incident INC-7',
    })
    expect(auto.body).toMatchObject({ status: 'active', approvalsNeeded: 0 })
    expect((await call<IdentityView>(engineer, 'GET', IDENTITY_PATHS.me)).body.role).toBe('admin')
    const ended = await call<Elevation>(
      engineer,
      'POST',
      `${ELEVATION_PATHS.list}/${auto.body.id}/end`,
      {
        comment: 'done',
      },
    )
    expect(ended.body).toMatchObject({ status: 'ended', closedBy: 'eng' })
    expect((await call<IdentityView>(engineer, 'GET', IDENTITY_PATHS.me)).body.role).toBe(
      'engineer',
    )

    const prod = await call<Elevation>(engineer, 'POST', ELEVATION_PATHS.list, {
      role: 'admin',
      durationMs: 900_000,
      reason: 'prod database migration',
      production: true,
    })
    expect(prod.body).toMatchObject({ status: 'pending', approvalsNeeded: 2 })
    const one = await call<Elevation>(
      admin,
      'POST',
      `${ELEVATION_PATHS.list}/${prod.body.id}/decision`,
      {
        decision: 'approve',
      },
    )
    expect(one.body).toMatchObject({ status: 'pending', approvals: [{ by: 'ada' }] })
    const twice = await call(admin, 'POST', `${ELEVATION_PATHS.list}/${prod.body.id}/decision`, {
      decision: 'approve',
    })
    expect(twice.status).toBe(403)
    const two = await call<Elevation>(
      admin2,
      'POST',
      `${ELEVATION_PATHS.list}/${prod.body.id}/decision`,
      {
        decision: 'approve',
      },
    )
    expect(two.body.status).toBe('active')
    await call(admin, 'POST', `${ELEVATION_PATHS.list}/${prod.body.id}/end`, {})
  })

  it('does not raise a token minted below the member’s role', async () => {
    const narrow = await s.token('ops', 'eng', 'readonly')
    await call(admin, 'POST', ELEVATION_PATHS.policy, {
      rules: [{ from: 'engineer', to: 'admin', maxMinutes: 30, approvals: 0 }],
    })
    const e = await call<Elevation>(engineer, 'POST', ELEVATION_PATHS.list, {
      role: 'admin',
      durationMs: 600_000,
      reason: 'check narrow tokens',
    })
    expect(e.body.status).toBe('active')
    expect((await call<IdentityView>(narrow, 'GET', IDENTITY_PATHS.me)).body.role).toBe('readonly')
    expect((await call<IdentityView>(engineer, 'GET', IDENTITY_PATHS.me)).body.role).toBe('admin')
    await call(engineer, 'POST', `${ELEVATION_PATHS.list}/${e.body.id}/end`, {})
  })
})

describe('restarts', () => {
  it('an elevation outlives a restart, and one that ran out while the server was down is expired at start', async () => {
    const e = await call<Elevation>(junior, 'POST', ELEVATION_PATHS.list, {
      role: 'engineer',
      durationMs: 2 * 3600_000,
      reason: 'long maintenance window',
    })
    await call(admin, 'POST', `${ELEVATION_PATHS.list}/${e.body.id}/decision`, {
      decision: 'approve',
    })
    await s.close()
    await start()
    await s.server.recheckConnections()
    expect((await call<IdentityView>(junior, 'GET', IDENTITY_PATHS.me)).body.role).toBe('engineer')
    await s.close()
    offset += 2 * 3600_000
    await start()
    expect((await call<IdentityView>(junior, 'GET', IDENTITY_PATHS.me)).body.role).toBe('junior')
    await s.server.recheckConnections()
    const expired = (await records('ops')).find(
      (r) => r.kind === 'elevation.expire' && r.data.id === e.body.id,
    )
    expect(expired?.actor).toBe('system')
  })
})

describe('hostile requests', () => {
  it('answers bad input with a clear error and changes nothing', async () => {
    const cases: unknown[] = [
      {},
      { role: 'god', durationMs: 60_000, reason: 'x'.repeat(10) },
      { role: 'engineer', durationMs: 10, reason: 'too short' },
      { role: 'engineer', durationMs: 1e12, reason: 'too long' },
      { role: 'engineer', durationMs: 60_000, reason: 'x'.repeat(5_000) },
      { role: 'engineer', durationMs: 60_000, reason: 'ok reason', extra: true },
      { role: 'engineer', durationMs: '60000', reason: 'ok reason' },
      '['.repeat(100_000) + ']'.repeat(100_000),
      'not json',
    ]
    const started = performance.now()
    for (const body of cases) {
      const r = await call(junior, 'POST', ELEVATION_PATHS.list, body)
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBeGreaterThanOrEqual(400)
      expect(r.status).toBeLessThan(500)
      expect(typeof (r.body as { message?: unknown }).message).toBe('string')
    }
    expect(performance.now() - started).toBeLessThan(5_000)
    // Terminal escapes and NUL in a reason are kept as text (JSON-escaped), never interpreted.
    const odd = await call<Elevation>(junior, 'POST', ELEVATION_PATHS.list, {
      role: 'engineer',
      durationMs: 60_000,
      reason: 'weird \u001b[31m red \u0000 nul',
    })
    expect(odd.status).toBe(201)
    await call(junior, 'POST', `${ELEVATION_PATHS.list}/${odd.body.id}/end`, {})
    for (const path of [
      `${ELEVATION_PATHS.list}/../../admin`,
      `${ELEVATION_PATHS.list}/%00`,
      `${ELEVATION_PATHS.list}/${'a'.repeat(5_000)}`,
    ]) {
      const r = await call(junior, 'GET', path)
      expect([400, 404]).toContain(r.status)
    }
    const noToken = await fetch(`${base}${ELEVATION_PATHS.list}`)
    expect(noToken.status).toBe(401)
    const bogus = await call('a.b.c', 'GET', IDENTITY_PATHS.me)
    expect(bogus.status).toBe(401)
    const policy = await call(junior, 'POST', ELEVATION_PATHS.policy, { rules: [] })
    expect(policy.status).toBe(403)
    const badPolicy = await call(admin, 'POST', ELEVATION_PATHS.policy, {
      rules: [{ from: 'engineer', to: 'admin', maxMinutes: 1e9, approvals: 7 }],
    })
    expect(badPolicy.status).toBe(400)
  })
})
