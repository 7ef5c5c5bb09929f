import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { APPROVAL_PATHS, type Approval } from '../../contract/approvals'
import type {
  AuditPage,
  AuditVerifyView,
  InviteCreated,
  InviteRedeemed,
  LibraryDetail,
  LibrarySummary,
  MemberView,
  SessionsView,
  SettingsView,
  TryResult,
} from '../../contract/console'
import { CLOSE, readPolicyDocument, writePattern } from '../../contract/sync'
import { readTeamTelemetry } from '../../contract/telemetry'
import { initSafety } from '../../main/safety/analyze'
import { clientPool, freshDataDir, tempRoot, testPattern, waitUntil } from '../testing/harness'
import { startConsoleServer, type ConsoleClient, type ConsoleTestServer } from './testing'

vi.setConfig({ testTimeout: 60_000, hookTimeout: 120_000 })

/** The console's pages against a real server with real y-websocket clients. */
const tmp = tempRoot('cmdai-console-features-')
const pool = clientPool()
let dir: string
let srv: ConsoleTestServer
let admin: ConsoleClient

beforeAll(async () => {
  await initSafety()
  dir = await freshDataDir(tmp.root, 'features')
  srv = await startConsoleServer({ dir })
  admin = await srv.signIn('acme', 'ada', 'admin')
})

afterAll(async () => {
  pool.destroyAll()
  await srv?.close()
  tmp.cleanup()
})

describe('members, invites, tokens and sessions', () => {
  let token = ''

  it('invites a member with a role; the invitee redeems once and a real client joins with the token', async () => {
    const made = await admin.post('/invites', { role: 'engineer', hours: 2, note: 'for ben' })
    expect(made.status).toBe(200)
    const { link, invite } = made.json as InviteCreated
    expect(invite).toMatchObject({ role: 'engineer', status: 'open', createdBy: 'ada' })
    const code = link.split('#/join/')[1]!
    expect(link.startsWith(`${srv.base}/admin/#/join/`)).toBe(true)
    const redeem = (user: string) =>
      fetch(`${srv.base}/admin/api/invites/redeem`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code, user }),
      })
    // An existing member's id cannot be taken over through an invite.
    expect((await redeem('ada')).status).toBe(409)
    const ok = await redeem('ben')
    expect(ok.status).toBe(200)
    const got = (await ok.json()) as InviteRedeemed
    expect(got).toMatchObject({ team: 'acme', user: 'ben', role: 'engineer' })
    token = got.token
    expect((await redeem('ben2')).status).toBe(404)
    const client = pool.connect(srv.url, 'acme/deploy', token)
    await client.synced()
    writePattern(
      client.doc,
      testPattern('p1', { command: 'kubectl rollout restart deploy/{{app}}' }),
    )
    const members = (await admin.get('/members')).json as { members: MemberView[] }
    expect(members.members.find((m) => m.user === 'ben')).toMatchObject({
      role: 'engineer',
      activeTokens: 1,
      online: 1,
    })
    const invites = (await admin.get('/invites')).json as {
      invites: Array<{ status: string; usedBy: string }>
    }
    expect(invites.invites[0]).toMatchObject({ status: 'used', usedBy: 'ben' })
  })

  it('lists open connections and ends one by revoking its token, which closes it', async () => {
    const other = pool.connect(srv.url, 'acme/ops', token)
    await other.synced()
    const view = (await admin.get('/sessions')).json as SessionsView
    const conn = view.connections.find((c) => c.user === 'ben')!
    expect(conn).toBeDefined()
    expect(view.console.some((s) => s.user === 'ada' && s.current)).toBe(true)
    expect((await admin.post('/sessions/end', { connection: conn.id })).status).toBe(200)
    expect(await other.closed).toMatchObject({ code: CLOSE.revoked })
    const tokens = (await admin.get('/tokens')).json as {
      tokens: Array<{ user: string; status: string }>
    }
    expect(tokens.tokens.find((t) => t.user === 'ben')!.status).toBe('revoked')
  })

  it('changes a role and removes a member, but never the only admin', async () => {
    expect((await admin.post('/members/role', { user: 'ben', role: 'junior' })).status).toBe(200)
    expect((await admin.post('/members/role', { user: 'ada', role: 'engineer' })).status).toBe(409)
    expect((await admin.post('/members/remove', { user: 'ada' })).status).toBe(409)
    expect((await admin.post('/members/remove', { user: 'ben' })).status).toBe(200)
    expect((await admin.post('/members/remove', { user: 'ben' })).status).toBe(404)
  })
})

describe('libraries, policy and settings', () => {
  it('lists libraries with counts, last change and verdicts, and each pattern read-only', async () => {
    const eng = await srv.token('acme', 'eve', 'engineer')
    const c = pool.connect(srv.url, 'acme/cleanup', eng)
    await c.synced()
    writePattern(
      c.doc,
      testPattern('wipe', {
        title: 'Wipe',
        command: 'rm -rf /',
        author: 'eve',
        updatedAt: 5,
        updatedBy: 'eve',
      }),
    )
    writePattern(
      c.doc,
      testPattern('list', {
        title: 'List',
        command: 'ls {{dir}}',
        author: 'eve',
        updatedAt: 9,
        updatedBy: 'eve',
      }),
    )
    await expect
      .poll(
        async () =>
          ((await admin.get('/libraries')).json as { libraries: LibrarySummary[] }).libraries.find(
            (l) => l.name === 'cleanup',
          )?.patterns,
      )
      .toBe(2)
    const lib = (
      (await admin.get('/libraries')).json as { libraries: LibrarySummary[] }
    ).libraries.find((l) => l.name === 'cleanup')!
    expect(lib).toMatchObject({
      lastChangedAt: 9,
      lastChangedBy: 'eve',
      risks: { critical: 1, safe: 1 },
    })
    const detail = (await admin.get('/libraries/cleanup')).json as LibraryDetail
    expect(detail.patterns.map((p) => [p.id, p.risk])).toEqual([
      ['list', 'safe'],
      ['wipe', 'critical'],
    ])
    expect(detail.patterns[1]!.reasons.length).toBeGreaterThan(0)
    expect((await admin.get('/libraries/nope')).status).toBe(404)
    expect((await admin.get('/libraries/..%2F..%2Fetc')).status).toBe(404)
  })

  it('saves the policy through the sync path: a member connected to it sees the change live', async () => {
    const member = pool.connect(srv.url, 'acme/.policy', await srv.token('acme', 'jo', 'junior'))
    await member.synced()
    const bad = await admin.post('/policy', { policy: { version: 2, rules: [] } })
    expect(bad.status).toBe(400)
    expect((bad.json as { message: string }).message).toContain('invalid policy')
    const policy = {
      version: 1,
      roles: { junior: { level: 'strict' } },
      rules: [
        {
          id: 'prod-approval',
          effect: 'block',
          match: { tag: 'production' },
          reason: 'needs a second pair of eyes',
        },
        {
          id: 'no-force-push',
          effect: 'block',
          match: { command: 'git', flag: '--force' },
          roles: ['junior'],
        },
      ],
    }
    const saved = await admin.post('/policy', { policy })
    expect(saved.status).toBe(200)
    expect(saved.json).toMatchObject({ updatedBy: 'ada', error: null })
    await waitUntil('policy reached the member', () => {
      const read = readPolicyDocument(member.doc)
      return read.ok && read.value.policy?.rules.length === 2
    })
    const read = readPolicyDocument(member.doc)
    expect(read.ok && read.value.updatedBy).toBe('ada')
    const audit = (await admin.get('/audit?kind=policy.change')).json as AuditPage
    expect(audit.records[0]).toMatchObject({
      actor: 'ada',
      data: { added: ['prod-approval', 'no-force-push'] },
    })
    // The short-lived token the console wrote with is revoked again.
    const tokens = (await admin.get('/tokens')).json as {
      tokens: Array<{ label: string | null; status: string }>
    }
    const mine = tokens.tokens.filter((t) => t.label === 'console: document change')
    expect(mine.length).toBeGreaterThan(0)
    expect(mine.every((t) => t.status === 'revoked')).toBe(true)
  })

  it('tries a command against the policy for each role (saved and draft)', async () => {
    const tried = (await admin.post('/policy/try', { command: 'git push --force origin main' }))
      .json as TryResult
    const by = Object.fromEntries(tried.roles.map((r) => [r.role, r]))
    expect(by.junior).toMatchObject({ action: 'approval', ruleId: 'no-force-push' })
    expect(by.admin!.action).not.toBe('approval')
    const tagged = (
      await admin.post('/policy/try', { command: 'echo deploy', tags: ['production'] })
    ).json as TryResult
    expect(tagged.roles.every((r) => r.action === 'approval' && r.ruleId === 'prod-approval')).toBe(
      true,
    )
    const critical = (await admin.post('/policy/try', { command: 'rm -rf /' })).json as TryResult
    expect(critical.roles.every((r) => r.action === 'block' && r.risk === 'critical')).toBe(true)
    const draft = (
      await admin.post('/policy/try', {
        command: 'echo deploy',
        tags: ['production'],
        policy: { version: 1, rules: [] },
      })
    ).json as TryResult
    expect(draft.roles.every((r) => r.action === 'allow')).toBe(true)
    expect((await admin.post('/policy/try', { command: 'ls', policy: { nope: 1 } })).status).toBe(
      400,
    )
  })

  it('sets what members’ apps send in the policy document, and audit retention', async () => {
    const member = pool.connect(srv.url, 'acme/.policy', await srv.token('acme', 'jo', 'junior'))
    await member.synced()
    const res = await admin.post('/settings/telemetry', {
      v: 1,
      aiDecisions: true,
      commandText: false,
      aiRunOutcomes: true,
    })
    expect(res.status).toBe(200)
    await waitUntil(
      'setting reached the app',
      () => readTeamTelemetry(member.doc).telemetry.aiDecisions,
    )
    expect(readTeamTelemetry(member.doc)).toMatchObject({ chosen: true, updatedBy: 'ada' })
    expect((await admin.post('/settings/retention', { days: 90 })).status).toBe(200)
    const settings = (await admin.get('/settings')).json as SettingsView
    expect(settings).toMatchObject({
      retentionDays: 90,
      telemetry: { telemetry: { aiRunOutcomes: true } },
    })
    const audit = (await admin.get('/audit?kind=settings.change')).json as AuditPage
    expect(audit.records[0]).toMatchObject({ data: { setting: 'audit.retentionDays', to: 90 } })
    // The policy (set before) survives a telemetry change.
    const pol = (await admin.get('/policy')).json as { policy: { rules: unknown[] } }
    expect(pol.policy.rules).toHaveLength(2)
  })
})

describe('approvals are durable and decided in the console', () => {
  it('keeps a pending request across a server restart, then decides it with a comment', async () => {
    const jun = await srv.token('acme', 'jun', 'junior')
    const res = await fetch(`${srv.base}${APPROVAL_PATHS.list}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${jun}`, 'content-type': 'application/json' },
      body: JSON.stringify({ command: 'make deploy ENV=prod', reason: 'release 7' }),
    })
    const asked = (await res.json()) as Approval
    pool.destroyAll()
    await srv.close()
    srv = await startConsoleServer({ dir })
    admin = await srv.signIn('acme', 'ada', 'admin')
    const list = (await admin.get('/approvals?status=pending')).json as { approvals: Approval[] }
    expect(list.approvals.map((a) => a.id)).toContain(asked.id)
    // The requester's long poll sees the decision taken in the console.
    const waiting = fetch(`${srv.base}${APPROVAL_PATHS.list}/${asked.id}?wait=20000`, {
      headers: { authorization: `Bearer ${jun}` },
    }).then((r) => r.json() as Promise<Approval>)
    const engineer = await srv.signIn('acme', 'eli', 'engineer')
    const decided = await engineer.post(`/approvals/${asked.id}/decision`, {
      decision: 'approve',
      comment: 'go',
    })
    expect(decided.status).toBe(200)
    expect(await waiting).toMatchObject({ status: 'approved', decidedBy: 'eli', comment: 'go' })
    const again = await admin.post(`/approvals/${asked.id}/decision`, { decision: 'deny' })
    expect(again.status).toBe(409)
    // A junior's own console cannot see the queue.
    const j = await srv.signIn('acme', 'jun', 'junior')
    expect((await j.get('/approvals')).status).toBe(403)
  })
})

describe('audit', () => {
  it('filters by actor, kind, library, time and text, pages back, verifies and exports', async () => {
    const all = (await admin.get('/audit?limit=5')).json as AuditPage
    expect(all.records).toHaveLength(5)
    expect(all.records[0]!.seq).toBeGreaterThan(all.records[4]!.seq)
    const older = (await admin.get(`/audit?limit=5&before=${all.next}`)).json as AuditPage
    expect(older.records[0]!.seq).toBeLessThan(all.records[4]!.seq)
    const byActor = (await admin.get('/audit?actor=eve&kind=library.change')).json as AuditPage
    expect(byActor.records.length).toBeGreaterThan(0)
    expect(byActor.records.every((r) => r.actor === 'eve' && r.kind === 'library.change')).toBe(
      true,
    )
    const byLib = (await admin.get('/audit?library=cleanup')).json as AuditPage
    expect(byLib.records.every((r) => r.room === 'acme/cleanup')).toBe(true)
    const text = (await admin.get('/audit?q=RELEASE%207')).json as AuditPage
    expect(text.records.some((r) => JSON.stringify(r).includes('release 7'))).toBe(true)
    const future = (await admin.get(`/audit?since=${Date.now() + 3_600_000}`)).json as AuditPage
    expect(future.records).toEqual([])
    const verified = (await admin.post('/audit/verify', {})).json as AuditVerifyView
    expect(verified).toMatchObject({ ok: true, problem: null })
    expect(verified.records).toBeGreaterThan(10)
    for (const format of ['jsonl', 'csv', 'syslog', 'cef']) {
      const res = await fetch(`${srv.base}/admin/api/audit/export?format=${format}`, {
        headers: { cookie: admin.cookie },
      })
      expect(res.status).toBe(200)
      expect(res.headers.get('content-disposition')).toContain(`audit-acme.`)
      const body = await res.text()
      expect(body.split('\n').length).toBeGreaterThan(10)
      if (format === 'cef') expect(body.startsWith('CEF:0|cmdai|cmdai-sync|')).toBe(true)
      if (format === 'syslog') expect(body).toMatch(/^<\d+>1 /)
    }
    expect((await admin.get('/audit/export?format=xml')).status).toBe(400)
    const exports = (await admin.get('/audit?kind=audit.export')).json as AuditPage
    expect(exports.records.map((r) => r.data.format)).toEqual(['cef', 'syslog', 'csv', 'jsonl'])
  })
})
