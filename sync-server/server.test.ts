import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import * as Y from 'yjs'
import {
  AWARENESS_USER_FIELD,
  CLOSE,
  DOC_ROOT,
  ROLES,
  SERVER_AWARENESS_CLIENT_ID,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  readLibrary,
  readPolicyDocument,
  readServerState,
  writePattern,
  writePolicyDocument,
  type AuditRecord,
  type Role,
} from '../contract/sync'
import { parseRecord } from './audit/audit-log'
import {
  clientPool,
  patternIds,
  testPattern,
  freshDataDir,
  startTestServer,
  tempRoot,
  waitUntil,
  type TestServer,
} from './testing/harness'

// Real servers, databases and processes: generous bounds for a busy 2-core machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 240_000 })

const tmp = tempRoot('cmdai-sync-server-')
let srv: TestServer
const pool = clientPool()
const connect = pool.connect

beforeAll(async () => {
  srv = await startTestServer({ dir: await freshDataDir(tmp.root, 'main') })
})

afterAll(async () => {
  pool.destroyAll()
  await srv?.close()
  tmp.cleanup()
})

const pattern = testPattern

const ids = patternIds

async function eventually(what: string, probe: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function records(team: string): Promise<AuditRecord[]> {
  await srv.server.commit({})
  const out: AuditRecord[] = []
  for await (const { line } of srv.audit.lines(team)) out.push(parseRecord(line))
  return out
}

describe('sync', () => {
  it('relays edits between clients and gives a late joiner the full state', async () => {
    const token = await srv.token('sync', 'ana', 'engineer')
    const a = connect(srv.url, 'sync/deploy', token)
    const b = connect(srv.url, 'sync/deploy', token)
    await Promise.all([a.synced(), b.synced()])
    writePattern(a.doc, pattern('p1'))
    await waitUntil('b sees p1', () => ids(b).includes('p1'))
    writePattern(b.doc, pattern('p2', { command: 'kubectl get pods -n {{ns}}' }))
    await waitUntil('a sees p2', () => ids(a).includes('p2'))
    const late = connect(srv.url, 'sync/deploy', token)
    await late.synced()
    await waitUntil('late joiner has both', () => ids(late).join() === 'p1,p2')
    const changes = (await records('sync')).filter((r) => r.kind === 'library.change')
    expect(changes.length).toBeGreaterThanOrEqual(2)
    expect(changes.every((r) => r.actor === 'ana' && r.room === 'sync/deploy')).toBe(true)
    expect(
      changes.flatMap((r) => r.data.patterns as Array<{ id: string; change: string }>),
    ).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: 'p1', change: 'added', command: 'echo p1' }),
        expect.objectContaining({ id: 'p2', change: 'added' }),
      ]),
    )
  })

  it('merges offline edits of two clients on reconnect', async () => {
    const token = await srv.token('offline', 'ana', 'engineer')
    const a = connect(srv.url, 'offline/lib', token)
    const b = connect(srv.url, 'offline/lib', token)
    await Promise.all([a.synced(), b.synced()])
    writePattern(a.doc, pattern('shared'))
    await waitUntil('b sees shared', () => ids(b).includes('shared'))
    a.provider.disconnect()
    b.provider.disconnect()
    writePattern(a.doc, pattern('only-a'))
    writePattern(a.doc, pattern('shared', { title: 'Title from A' }))
    writePattern(b.doc, pattern('only-b'))
    writePattern(b.doc, pattern('shared', { description: 'Description from B' }))
    a.provider.connect()
    b.provider.connect()
    await waitUntil(
      'converged',
      () => ids(a).join() === 'only-a,only-b,shared' && ids(b).join() === ids(a).join(),
    )
    await waitUntil(
      'fields merged',
      () => JSON.stringify(readLibrary(a.doc)) === JSON.stringify(readLibrary(b.doc)),
    )
    const shared = readLibrary(b.doc)
    const p = shared.ok ? shared.value.patterns.find((x) => x.id === 'shared') : null
    expect(p?.title).toBe('Title from A')
    expect(p?.description).toBe('Description from B')
  })

  it('redacts secrets in audited commands and names each changed field', async () => {
    const token = await srv.token('redact', 'ana', 'engineer')
    const a = connect(srv.url, 'redact/lib', token)
    await a.synced()
    const secret = 'ghp_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8'
    writePattern(
      a.doc,
      pattern('p', { command: `curl -H "Authorization: token ${secret}" https://api.github.com` }),
    )
    writePattern(
      a.doc,
      pattern('p', {
        command: `curl -H "Authorization: token ${secret}" https://api.github.com`,
        tags: ['x'],
      }),
    )
    let recs: AuditRecord[] = []
    await eventually('tags change audited', async () => {
      recs = (await records('redact')).filter((r) => r.kind === 'library.change')
      return recs.some((r) => JSON.stringify(r.data).includes('"tags"'))
    })
    const text = JSON.stringify(recs)
    expect(text).not.toContain(secret)
    expect(text).toContain('api.github.com')
    expect(
      recs
        .flatMap((r) => r.data.patterns as Array<{ fields?: string[] }>)
        .some((p) => p.fields?.includes('tags')),
    ).toBe(true)
  })
})

describe('roles', () => {
  const team = 'roles'
  let adminToken: string

  beforeAll(async () => {
    adminToken = await srv.token(team, 'root', 'admin')
    const seed = connect(srv.url, `${team}/lib`, adminToken)
    await seed.synced()
    writePattern(seed.doc, pattern('seed'))
    const policy = connect(srv.url, `${team}/.policy`, adminToken)
    await policy.synced()
    writePolicyDocument(policy.doc, { version: 1, rules: [] }, 'root')
    await new Promise((r) => setTimeout(r, 300))
    seed.destroy()
    policy.destroy()
  })

  // Each role x (read library, write library, write policy).
  const expected: Record<Role, { library: boolean; policy: boolean }> = {
    admin: { library: true, policy: true },
    engineer: { library: true, policy: false },
    junior: { library: false, policy: false },
    readonly: { library: false, policy: false },
  }

  for (const role of ROLES) {
    it(`${role}: reads, ${expected[role].library ? 'writes' : 'cannot write'} libraries, ${expected[role].policy ? 'writes' : 'cannot write'} the policy`, async () => {
      const token = await srv.token(team, `user-${role}`, role)
      const watcher = connect(srv.url, `${team}/lib`, adminToken)
      const c = connect(srv.url, `${team}/lib`, token)
      await Promise.all([c.synced(), watcher.synced()])
      await waitUntil('reads the library', () => ids(c).includes('seed'))
      await waitUntil(
        'told its role',
        () => readServerState(c.provider.awareness.getStates()) !== null,
      )
      const state = readServerState(c.provider.awareness.getStates())!
      expect(state).toMatchObject({
        role,
        user: `user-${role}`,
        team,
        readOnly: !expected[role].library,
      })

      writePattern(c.doc, pattern(`by-${role}`))
      const pol = connect(srv.url, `${team}/.policy`, token)
      const polWatch = connect(srv.url, `${team}/.policy`, adminToken)
      await Promise.all([pol.synced(), polWatch.synced()])
      writePolicyDocument(pol.doc, { version: 1, level: 'strict', rules: [] }, `user-${role}`)
      if (expected[role].library)
        await waitUntil('write relayed', () => ids(watcher).includes(`by-${role}`))
      if (expected[role].policy)
        await waitUntil('policy relayed', () => {
          const p = readPolicyDocument(polWatch.doc)
          return p.ok && p.value.updatedBy === `user-${role}`
        })
      // Refusals are audited (and nothing of them relayed or stored).
      const user = `user-${role}`
      const refused = (room: string) => async () =>
        (await records(team)).some(
          (r) => r.kind === 'write.refused' && r.actor === user && r.room === room,
        )
      if (!expected[role].library)
        await eventually('library refusal audited', refused(`${team}/lib`))
      if (!expected[role].policy)
        await eventually('policy refusal audited', refused(`${team}/.policy`))
      const rs = await records(team)
      expect(ids(watcher).includes(`by-${role}`)).toBe(expected[role].library)
      const p = readPolicyDocument(polWatch.doc)
      expect(p.ok && p.value.updatedBy === `user-${role}`).toBe(expected[role].policy)
      // A fresh reader confirms what was stored.
      const fresh = connect(srv.url, `${team}/lib`, adminToken)
      await fresh.synced()
      await waitUntil('fresh has seed', () => ids(fresh).includes('seed'))
      expect(ids(fresh).includes(`by-${role}`)).toBe(expected[role].library)
      const policyChanges = rs.filter(
        (r) => r.kind === 'policy.change' && r.actor === `user-${role}`,
      )
      expect(policyChanges.length > 0).toBe(expected[role].policy)
    })
  }

  it('gives a member of another team nothing', async () => {
    const other = await srv.token('other-team', 'eve', 'admin')
    const c = connect(srv.url, `${team}/lib`, other)
    expect(await c.closed).toMatchObject({ code: CLOSE.wrongTeam })
    expect(ids(c)).toEqual([])
    const failures = (await records(team)).filter(
      (r) => r.kind === 'auth.failure' && r.actor === 'eve',
    )
    expect(failures[0]?.data).toMatchObject({ code: CLOSE.wrongTeam, tokenTeam: 'other-team' })
  })
})

async function signedToken(
  claims: { team: string; sub: string; role: Role; jti: string; exp: number },
  key = srv.keys.active('token'),
) {
  return new SignJWT({ team: claims.team, role: claims.role })
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'JWT' })
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setSubject(claims.sub)
    .setJti(claims.jti)
    .setIssuedAt(claims.exp - 3600)
    .setExpirationTime(claims.exp)
    .sign(key.privateKey)
}

describe('sign-in', () => {
  const team = 'signin'
  const now = () => Math.floor(Date.now() / 1000)

  it('refuses missing, malformed, foreign, tampered, expired and unissued tokens with distinct codes', async () => {
    const good = await srv.token(team, 'ana', 'engineer')
    const [h, p, sig] = good.split('.') as [string, string, string]
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...payload, role: 'admin' })).toString('base64url')}.${sig}`
    const { generateKeyPairSync } = await import('node:crypto')
    const foreign = await signedToken(
      { team, sub: 'ana', role: 'admin', jti: 'foreign-jti-1', exp: now() + 3600 },
      {
        ...srv.keys.active('token'),
        kid: 'someone-else',
        privateKey: generateKeyPairSync('ed25519').privateKey,
      },
    )
    const cases: Array<[string, string, number]> = [
      ['no token', '', CLOSE.unauthenticated],
      ['garbage', 'not-a-jwt', CLOSE.unauthenticated],
      ['NUL and escapes', 'a\u0000b.\u001b[31m.c', CLOSE.unauthenticated],
      ['huge', 'x'.repeat(10_000), CLOSE.unauthenticated],
      [
        'alg none',
        `${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`,
        CLOSE.unauthenticated,
      ],
      ['tampered payload', tampered, CLOSE.unauthenticated],
      ['foreign key', foreign, CLOSE.unauthenticated],
      [
        'expired',
        await signedToken({
          team,
          sub: 'ana',
          role: 'engineer',
          jti: 'expired-jti-1',
          exp: now() - 120,
        }),
        CLOSE.expired,
      ],
      [
        'not issued here',
        await signedToken({
          team,
          sub: 'ana',
          role: 'engineer',
          jti: 'never-issued-1',
          exp: now() + 3600,
        }),
        CLOSE.unauthenticated,
      ],
      [
        'unknown team',
        await signedToken({
          team: 'ghost',
          sub: 'ana',
          role: 'engineer',
          jti: 'ghost-jti-1',
          exp: now() + 3600,
        }),
        CLOSE.unknownTeam,
      ],
    ]
    for (const [what, token, code] of cases) {
      const room = what === 'unknown team' ? 'ghost/lib' : `${team}/lib`
      const c = connect(srv.url, room, token)
      const closed = await c.closed
      expect(closed.code, what).toBe(code)
      expect(closed.reason.length).toBeGreaterThan(0)
    }
    const bad = connect(srv.url, 'Not A Room', good)
    expect((await bad.closed).code).toBe(CLOSE.malformed)
    const failures = (await records(team)).filter((r) => r.kind === 'auth.failure')
    expect(failures.length).toBeGreaterThanOrEqual(8)
    // Never the token itself in the audit log.
    expect(JSON.stringify(failures)).not.toContain(sig)
  })

  it('closes a revoked token and a removed member, and applies a role change, within seconds', async () => {
    const token = await srv.token(team, 'rev', 'engineer')
    const c = connect(srv.url, `${team}/lib`, token)
    await c.synced()
    const started = Date.now()
    await srv.admin.tokenRevoke({ team, user: 'rev' })
    expect((await c.closed).code).toBe(CLOSE.revoked)
    expect(Date.now() - started).toBeLessThan(5_000)
    const again = connect(srv.url, `${team}/lib`, token)
    expect((await again.closed).code).toBe(CLOSE.revoked)

    const t2 = await srv.token(team, 'gone', 'engineer')
    const c2 = connect(srv.url, `${team}/lib`, t2)
    await c2.synced()
    await srv.storage.removeMember(team, 'gone') // bypassing the admin (which revokes too)
    expect((await c2.closed).code).toBe(CLOSE.notMember)

    const t3 = await srv.token(team, 'demoted', 'engineer')
    const c3 = connect(srv.url, `${team}/lib`, t3)
    await c3.synced()
    await srv.admin.memberSetRole({ team, user: 'demoted', role: 'readonly' })
    await waitUntil(
      'told it is read-only',
      () => readServerState(c3.provider.awareness.getStates())?.readOnly === true,
      3_000,
    )
    writePattern(c3.doc, pattern('after-demotion'))
    await waitUntil('write refused', () => c3.denied.length > 0)
  })
})

describe('hostile input', () => {
  let limited: TestServer
  const team = 'hostile'

  beforeAll(async () => {
    limited = await startTestServer({
      dir: await freshDataDir(tmp.root, 'limited'),
      limits: {
        maxMessageBytes: 64 * 1024,
        messagesPerSecond: 20,
        messageBurst: 40,
        maxAwarenessBytes: 1024,
        maxRoomsPerToken: 4,
      },
    })
  })
  afterAll(() => limited?.close())

  /** A raw socket that sends what it is told, for messages the stock client would never send. */
  async function raw(
    token: string,
    room = `${team}/lib`,
  ): Promise<{ ws: WebSocket; closed: Promise<{ code: number; reason: string }> }> {
    const ws = new WebSocket(`${limited.url}/${room}?token=${encodeURIComponent(token)}`)
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    )
    ws.on('error', () => {})
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('close', () => reject(new Error('closed before open')))
    })
    return { ws, closed }
  }

  const awarenessMessage = async (
    entries: Array<{ clientId: number; clock: number; json: string }>,
  ) => {
    const { encodeAwarenessEntries, encodeAwarenessMessage } = await import('./rooms/protocol')
    return encodeAwarenessMessage(encodeAwarenessEntries(entries))
  }

  it('closes senders of malformed, oversized and flooding messages; the document and other clients are unharmed', async () => {
    const token = await limited.token(team, 'ana', 'engineer')
    const bystanderToken = await limited.token(team, 'bob', 'engineer')
    const bystander = connect(limited.url, `${team}/lib`, bystanderToken)
    await bystander.synced()
    writePattern(bystander.doc, pattern('keep'))
    await new Promise((r) => setTimeout(r, 200))

    const started = Date.now()
    const cases: Array<[string, Uint8Array | Buffer, number]> = [
      ['garbage', Buffer.from([0xff, 0xff, 0xff, 0x01, 0x02]), CLOSE.malformed],
      ['truncated sync', Buffer.from([0]), CLOSE.malformed],
      ['update that does not decode', Buffer.from([0, 2, 5, 1, 2, 3, 4, 5]), CLOSE.malformed],
      ['lying length', Buffer.from([0, 2, 0xff, 0xff, 0xff, 0xff, 0x0f, 1]), CLOSE.malformed],
      ['unknown sync type', Buffer.from([0, 9, 0]), CLOSE.malformed],
      ['oversized', Buffer.alloc(100 * 1024, 1), CLOSE.tooLarge],
      [
        'awareness not JSON',
        await awarenessMessage([{ clientId: 7, clock: 1, json: '{nope' }]),
        CLOSE.malformed,
      ],
      [
        'awareness array',
        await awarenessMessage([
          { clientId: 7, clock: 1, json: '['.repeat(300) + ']'.repeat(300) },
        ]),
        CLOSE.malformed,
      ],
      [
        'awareness too large',
        await awarenessMessage([
          { clientId: 7, clock: 1, json: JSON.stringify({ x: 'y'.repeat(5000) }) },
        ]),
        CLOSE.awarenessTooLarge,
      ],
    ]
    for (const [what, data, code] of cases) {
      const { ws, closed } = await raw(token)
      ws.send(data)
      const got = await closed
      expect(got.code, what).toBe(code)
      expect(got.reason, what).not.toBe('')
    }
    // Flooding: far more than the burst, as fast as the socket goes.
    const { ws, closed } = await raw(token)
    const query = Buffer.from([3])
    for (let i = 0; i < 500 && ws.readyState === ws.OPEN; i++) ws.send(query)
    expect((await closed).code).toBe(CLOSE.rateLimited)
    expect(Date.now() - started).toBeLessThan(15_000)

    // The bystander stayed connected, the document is intact and still takes edits.
    expect(bystander.closes).toEqual([])
    writePattern(bystander.doc, pattern('after'))
    const check = connect(limited.url, `${team}/lib`, bystanderToken)
    await check.synced()
    await waitUntil('intact', () => ids(check).join() === 'after,keep')
  })

  it('keeps awareness honest: no speaking as the server, the user field set by the server', async () => {
    const token = await limited.token(team, 'ana', 'engineer')
    const observer = connect(
      limited.url,
      `${team}/lib`,
      await limited.token(team, 'obs', 'readonly'),
    )
    await observer.synced()
    const { ws } = await raw(token)
    ws.send(
      await awarenessMessage([
        {
          clientId: SERVER_AWARENESS_CLIENT_ID,
          clock: 99,
          json: JSON.stringify({
            cmdaiServer: { v: 1, team, user: 'obs', role: 'admin', readOnly: false, schema: 1 },
          }),
        },
        {
          clientId: 4242,
          clock: 1,
          json: JSON.stringify({
            user: { name: 'admin' },
            [AWARENESS_USER_FIELD]: { id: 'root', role: 'admin' },
            note: 'a\u0000b\u001b[2J',
          }),
        },
        {
          clientId: 4343,
          clock: 1,
          json: JSON.stringify({ deep: JSON.parse('{"a":'.repeat(100) + '1' + '}'.repeat(100)) }),
        },
      ]),
    )
    await waitUntil('observer sees 4242', () => observer.provider.awareness.getStates().has(4242))
    const st = observer.provider.awareness.getStates().get(4242) as Record<string, unknown>
    expect(st[AWARENESS_USER_FIELD]).toEqual({ id: 'ana', role: 'engineer' })
    expect(st.note).toBe('a\u0000b\u001b[2J')
    // The server entry the observer holds is still the server's own (its role: readonly).
    expect(readServerState(observer.provider.awareness.getStates())).toMatchObject({
      user: 'obs',
      role: 'readonly',
      readOnly: true,
    })
    ws.close()
    await waitUntil('left: state removed', () => !observer.provider.awareness.getStates().has(4242))
  })

  it('limits the rooms one token holds open', async () => {
    const token = await limited.token(team, 'many', 'engineer')
    const open = [1, 2, 3, 4].map((i) => connect(limited.url, `${team}/room-${i}`, token))
    await Promise.all(open.map((c) => c.synced()))
    const fifth = connect(limited.url, `${team}/room-5`, token)
    expect((await fifth.closed).code).toBe(CLOSE.tooManyRooms)
  })

  it('refuses a command held as Y.Text and a document from the future; the room reloads without them', async () => {
    const token = await limited.token(team, 'ana', 'engineer')
    const good = connect(limited.url, `${team}/format`, token)
    await good.synced()
    writePattern(good.doc, pattern('fine'))
    await new Promise((r) => setTimeout(r, 200))
    const evil = connect(limited.url, `${team}/format`, token)
    await evil.synced()
    const map = evil.doc.getMap(DOC_ROOT.patterns).get('fine') as Y.Map<unknown>
    map.set('command', new Y.Text('rm -rf /'))
    expect((await evil.closed).code).toBe(CLOSE.malformed)
    const future = connect(limited.url, `${team}/format`, token)
    await future.synced()
    future.doc.getMap(DOC_ROOT.meta).set('schema', 99)
    expect((await future.closed).code).toBe(CLOSE.unsupportedSchema)
    // The good client reconnects (transient close) and the stored document never had either.
    const check = connect(limited.url, `${team}/format`, token)
    await check.synced()
    await waitUntil('fine', () => ids(check).includes('fine'))
    const m = check.doc.getMap(DOC_ROOT.patterns).get('fine') as Y.Map<unknown>
    expect(m.get('command')).toBe('echo fine')
    expect(check.doc.getMap(DOC_ROOT.meta).get('schema')).toBe(1)
    await waitUntil('good reconnected', () => good.provider.wsconnected && good.provider.synced)
  })
})

describe('HTTP API', () => {
  const team = 'events'
  const post = (body: unknown, token?: string, type = 'application/json') =>
    fetch(`http://127.0.0.1:${srv.port}/api/v1/events`, {
      method: 'POST',
      headers: { 'content-type': type, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    })

  it('records client events once, redacted, and refuses bad requests clearly', async () => {
    const token = await srv.token(team, 'ana', 'junior')
    const secret = 'AKIA' + 'ABCDEFGHIJKLMNOP'
    const events = [
      {
        id: 'evt-00000001',
        kind: 'command.run',
        ts: Date.now(),
        team,
        library: 'ops',
        patternId: 'p1',
        command: `aws s3 ls --key ${secret}`,
        exitCode: 0,
        risk: 'moderate',
      },
      {
        id: 'evt-00000002',
        kind: 'ai.decision',
        ts: Date.now(),
        team,
        decision: 'edited',
        model: 'qwen',
        latencyMs: 420,
      },
    ]
    const first = await post({ events }, token)
    expect(first.status).toBe(200)
    expect(await first.json()).toEqual({ accepted: 2, duplicates: 0 })
    const replay = await post({ events }, token)
    expect(await replay.json()).toEqual({ accepted: 0, duplicates: 2 })
    const recs = (await records(team)).filter((r) => r.kind === 'client.event')
    expect(recs).toHaveLength(2)
    expect(recs[0]).toMatchObject({ actor: 'ana', role: 'junior', room: `${team}/ops` })
    expect(JSON.stringify(recs)).not.toContain(secret)
    const stored = await srv.storage.sql.query<{ event: string }>(
      'SELECT event FROM client_events WHERE team = $1',
      [team],
    )
    expect(stored.rows.map((r) => r.event).join()).not.toContain(secret)

    const other = await srv.token('events-other', 'eve', 'admin')
    const statuses = await Promise.all([
      post({ events }, undefined).then((r) => r.status),
      post({ events: [{ ...events[0], team: 'events-other' }] }, token).then((r) => r.status),
      post({ events }, other).then((r) => r.status),
      post({ events: [{ ...events[0], id: 'x' }] }, token).then((r) => r.status),
      post({ events: [{ ...events[0], user: 'mallory' }] }, token).then((r) => r.status),
      post('{not json', token).then((r) => r.status),
      post({ events }, token, 'text/plain').then((r) => r.status),
      post('['.repeat(500_000), token).then((r) => r.status),
      post('x'.repeat(2 * 1024 * 1024), token).then((r) => r.status),
    ])
    expect(statuses).toEqual([401, 403, 403, 400, 400, 400, 415, 400, 413])
    const body = await (await post({ events }, undefined)).json()
    expect(body).toMatchObject({ code: 'forbidden', message: expect.any(String) })
  })

  it('serves health, readiness, metrics, keys and a signed checkpoint that verifies', async () => {
    const base = `http://127.0.0.1:${srv.port}`
    expect((await fetch(`${base}/healthz`)).status).toBe(200)
    expect(await (await fetch(`${base}/readyz`)).json()).toMatchObject({ status: 'ready' })
    const metrics = await (await fetch(`${base}/metrics`)).text()
    expect(metrics).toContain('cmdai_sync_connections')
    expect(metrics).toContain('cmdai_sync_commit_seconds')
    const jwks = (await (await fetch(`${base}/.well-known/jwks.json`)).json()) as {
      keys: Array<{ kid: string; d?: string }>
    }
    expect(jwks.keys.length).toBeGreaterThanOrEqual(2)
    expect(jwks.keys.every((k) => k.d === undefined)).toBe(true)

    const token = await srv.token(team, 'reader', 'readonly')
    const res = await fetch(`${base}/audit/checkpoint?team=${team}`, {
      headers: { authorization: `Bearer ${token}` },
    })
    expect(res.status).toBe(200)
    const cp = await res.json()
    const reports = await srv.admin.auditVerify({ team, checkpoint: cp })
    expect(reports[0]).toMatchObject({ ok: true })
    expect(reports[0]!.checkpointsChecked).toBeGreaterThanOrEqual(1)
    const foreign = await fetch(`${base}/audit/checkpoint?team=sync`, {
      headers: { authorization: `Bearer ${token}` },
    })
    expect(foreign.status).toBe(403)
    expect((await fetch(`${base}/nope`)).status).toBe(404)
  })
})
