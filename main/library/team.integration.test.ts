import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Approval } from '../../contract/approvals'
import type { FieldConflict, LibraryInfo } from '../../contract/library'
import { SYNC_WS_PATH, writePolicyDocument } from '../../contract/sync'
import { waitFor } from '../testing/wait-for'
import { initSafety } from '../safety/analyze'
import { ApprovalsClient } from './approvals-client'
import { decide } from './decide'
import { EventQueue } from './event-queue'
import { openLibraries, type Libraries } from './open'
import { startTeamServer, type TeamServer } from './testing/team-server'
import { waitForDecision } from './team-http'

/**
 * Team libraries against the real sync server (`cmdai-sync start` in a child process) with the
 * app's real sync clients: live sync, offline edits on two clients merged on reconnect, a
 * concurrent edit of one field shown on both sides, a read-only member refused, the team policy
 * blocking a junior, the approval round trip and run events reaching the audit log.
 */
let server: TeamServer
const root = mkdtempSync(join(tmpdir(), 'cmdai-team-lib-'))
const opened: Libraries[] = []
const tokens: Record<string, string> = {}

interface Client {
  libs: Libraries
  infos: LibraryInfo[]
  conflicts: FieldConflict[]
}

async function client(name: string): Promise<Client> {
  const c: Client = { libs: null as unknown as Libraries, infos: [], conflicts: [] }
  c.libs = await openLibraries({
    dataDir: join(root, name),
    owner: 'app',
    connect: true,
    starter: [],
    maxBackoffMs: 500,
    events: {
      update() {},
      info: (i) => c.infos.push(i),
      removed() {},
      presence() {},
      conflicts: (_id, list) => (c.conflicts = list),
    },
  })
  opened.push(c.libs)
  return c
}

const LIB = 'acme/deploy'
const synced = (c: Client) => c.libs.hub.get(LIB).sync.state === 'synced'
const titles = (c: Client) =>
  c.libs.hub
    .patterns(LIB)
    .map((p) => p.title)
    .sort()

beforeAll(async () => {
  await initSafety()
  server = await startTeamServer()
  for (const [user, role] of [
    ['ann', 'engineer'],
    ['bob', 'engineer'],
    ['jun', 'junior'],
    ['rita', 'readonly'],
    ['ada', 'admin'],
  ] as const)
    tokens[user] = server.token('acme', user, role)
}, 180_000)

afterAll(async () => {
  for (const l of opened) await l.close().catch(() => {})
  await server?.stop()
  rmSync(root, { recursive: true, force: true })
})

describe('team libraries through the real sync server', () => {
  let ann: Client
  let bob: Client

  it('syncs live, then merges offline edits of two clients on reconnect', async () => {
    ann = await client('ann')
    bob = await client('bob')
    await ann.libs.hub.join(server.url, tokens.ann!, 'deploy')
    await bob.libs.hub.join(server.url, tokens.bob!, 'deploy')
    await waitFor('both synced', () => synced(ann) && synced(bob))
    const p = await ann.libs.hub.save(LIB, {
      title: 'Roll out',
      command: 'kubectl rollout restart deployment/{{app}} -n {{ns}}',
      tags: ['k8s'],
    })
    await waitFor('bob sees ann’s pattern', () => titles(bob).includes('Roll out'))
    expect(bob.libs.hub.pattern(LIB, p.id).author).toBe('ann')

    ann.libs.hub.setOnline(LIB, false)
    bob.libs.hub.setOnline(LIB, false)
    await ann.libs.hub.save(LIB, { title: 'Ann offline', command: 'echo ann' })
    await bob.libs.hub.save(LIB, { title: 'Bob offline', command: 'echo bob' })
    // The same field, edited on both sides while apart.
    await ann.libs.hub.save(LIB, {
      ...p,
      command: 'kubectl rollout restart deploy/{{app}} -n {{ns}} --ann',
    })
    await bob.libs.hub.save(LIB, {
      ...p,
      command: 'kubectl rollout restart deploy/{{app}} -n {{ns}} --bob',
    })
    expect(ann.libs.hub.get(LIB).sync).toMatchObject({ state: 'offline', unsynced: true })

    ann.libs.hub.setOnline(LIB, true)
    await waitFor('ann synced', () => synced(ann))
    bob.libs.hub.setOnline(LIB, true)
    const want = ['Ann offline', 'Bob offline', 'Roll out']
    await waitFor(
      'both converge',
      () =>
        JSON.stringify(titles(ann)) === JSON.stringify(want) &&
        JSON.stringify(titles(bob)) === JSON.stringify(want),
    )
    await waitFor(
      'same command on both',
      () => ann.libs.hub.pattern(LIB, p.id).command === bob.libs.hub.pattern(LIB, p.id).command,
    )
    // The concurrent edit is shown with both values where the other value arrived (at least the
    // side whose value lost sees it); nothing is silently dropped.
    await waitFor('a conflict marker', () => ann.conflicts.length + bob.conflicts.length > 0)
    const marker = [...ann.conflicts, ...bob.conflicts].find((c) => c.field === 'command')!
    expect([marker.mine, marker.theirs].sort()).toEqual([
      'kubectl rollout restart deploy/{{app}} -n {{ns}} --ann',
      'kubectl rollout restart deploy/{{app}} -n {{ns}} --bob',
    ])
    const loser = ann.libs.hub.pattern(LIB, p.id).command.endsWith('--ann') ? bob : ann
    expect(loser.conflicts.find((c) => c.field === 'command')?.kept).toBe('theirs')
    // Keeping one's own value settles the marker and writes it for everyone.
    await loser.libs.hub.resolveConflict(LIB, p.id, 'command', 'mine')
    expect(loser.conflicts).toEqual([])
    const mine = loser.libs.hub.pattern(LIB, p.id).command
    const other = loser === ann ? bob : ann
    await waitFor(
      'the kept value reaches the other side',
      () => other.libs.hub.pattern(LIB, p.id).command === mine,
    )
  }, 120_000)

  it('shows a read-only member the library read-only and refuses their edits', async () => {
    const rita = await client('rita')
    await rita.libs.hub.join(server.url, tokens.rita!, 'deploy')
    await waitFor('rita synced', () => synced(rita))
    await waitFor('rita sees the patterns', () => titles(rita).length === 3)
    const info = rita.libs.hub.get(LIB)
    expect(info.readOnly).toBe(true)
    expect(info.sync.readOnly).toBe(true)
    await expect(rita.libs.hub.save(LIB, { title: 'Nope', command: 'echo no' })).rejects.toThrow(
      /read-only/,
    )
  }, 60_000)

  it('applies the team policy to a junior and lets them run after an approval', async () => {
    // The admin writes the policy document, as the admin console does.
    const doc = new Y.Doc()
    const provider = new WebsocketProvider(
      server.url.replace('http', 'ws') + SYNC_WS_PATH,
      'acme/.policy',
      doc,
      {
        params: { token: tokens.ada! },
        WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
        disableBc: true,
      },
    )
    await waitFor('admin synced', () => provider.synced)
    writePolicyDocument(
      doc,
      {
        version: 1,
        rules: [
          {
            id: 'prod-needs-approval',
            effect: 'block',
            match: { tag: 'production' },
            reason: 'production needs an approval',
          },
          { id: 'junior-no-high', effect: 'block', roles: ['junior'], match: { minRisk: 'high' } },
        ],
      },
      'ada',
    )
    const jun = await client('jun')
    await jun.libs.hub.join(server.url, tokens.jun!, 'deploy')
    await waitFor(
      'jun has the policy',
      () => jun.libs.hub.teamContext(LIB).policy?.rules.length === 2,
    )
    provider.destroy()
    const ctx = jun.libs.hub.teamContext(LIB)
    expect(ctx.role).toBe('junior')
    const pattern = {
      id: 'x',
      title: 'Deploy prod',
      command: 'helm upgrade web ./chart',
      description: '',
      parameters: [],
      tags: ['production'],
      author: 'ann',
      createdAt: 1,
      updatedAt: 1,
    }
    const judge = (approvalId?: string) =>
      decide(
        pattern,
        pattern.command,
        { shell: 'bash', teamPolicy: ctx.policy, role: ctx.role, canRequestApproval: true },
        approvalId,
      )
    const before = judge()
    expect(before.decision).toMatchObject({ action: 'approval', ruleId: 'prod-needs-approval' })
    expect(before.decision.reason).toMatch(/production needs an approval/)
    // A high-risk command is refused for the junior by the role rule.
    const risky = decide({ ...pattern, tags: [] }, 'rm -rf ./build /tmp/cache', {
      shell: 'bash',
      teamPolicy: ctx.policy,
      role: 'junior',
      canRequestApproval: true,
    })
    expect(risky.decision).toMatchObject({ action: 'approval', ruleId: 'junior-no-high' })

    // The approval round trip: jun asks, ann (an engineer) sees it live and approves.
    const seenByAnn: Approval[] = []
    const annApprovals = new ApprovalsClient(
      (t) => ann.libs.hub.teamCredentials(t),
      (a) => seenByAnn.push(a),
    )
    annApprovals.watch('acme')
    const junSeen: Approval[] = []
    const junApprovals = new ApprovalsClient(
      (t) => jun.libs.hub.teamCredentials(t),
      (a) => junSeen.push(a),
    )
    junApprovals.watch('acme')
    await new Promise((r) => setTimeout(r, 500))
    const asked = await junApprovals.request('acme', {
      command: pattern.command,
      shell: 'bash',
      reason: 'hotfix for ticket 42',
      library: 'deploy',
      patternId: 'x',
    })
    expect(asked).toMatchObject({ status: 'pending', requester: 'jun', requesterRole: 'junior' })
    await waitFor('ann sees the request live', () => seenByAnn.find((a) => a.id === asked.id))
    // Nobody approves their own request; a junior cannot approve at all.
    await expect(junApprovals.decide('acme', asked.id, 'approve', '')).rejects.toThrow(
      /admins and engineers|own/,
    )
    await annApprovals.decide('acme', asked.id, 'approve', 'go ahead')
    await waitFor('jun hears the decision', () =>
      junSeen.find((a) => a.id === asked.id && a.status === 'approved'),
    )
    const covering = junApprovals.covering('acme', 'jun', pattern.command, 'bash')
    expect(covering?.decidedBy).toBe('ann')
    expect(judge(covering!.id).decision).toMatchObject({ action: 'allow', approvalId: asked.id })
    // Exactly that command: another one needs its own approval.
    expect(
      junApprovals.covering('acme', 'jun', pattern.command + ' --force', 'bash'),
    ).toBeUndefined()
    // The CLI's wait sees the same decision.
    const waited = await waitForDecision(
      jun.libs.hub.teamCredentials('acme')!,
      asked.id,
      Date.now() + 5_000,
    )
    expect(waited.status).toBe('approved')
    annApprovals.stop()
    junApprovals.stop()
  }, 120_000)

  it('reports runs to the audit log through the events endpoint, queued while offline, once', async () => {
    const queue = new EventQueue(ann.libs.store, (t) => ann.libs.hub.teamCredentials(t))
    ann.libs.hub.setOnline(LIB, false)
    // Offline: the server is not reachable under this endpoint.
    const offline = new EventQueue(ann.libs.store, () => ({
      server: 'http://127.0.0.1:9',
      token: tokens.ann!,
    }))
    const id = await offline.add('acme', {
      kind: 'command.run',
      library: 'deploy',
      command: 'echo AKIAIOSFODNN7EXAMPLE',
      shell: 'bash',
      risk: 'safe',
      decision: 'ran',
      exitCode: 0,
    })
    await offline.flush()
    expect(await ann.libs.store.queuedCount()).toBe(1)
    offline.stop()
    ann.libs.hub.setOnline(LIB, true)
    await queue.flush()
    // Replayed again (a lost answer): the server keeps one record.
    await ann.libs.store.enqueueEvent({
      id,
      server: server.url,
      team: 'acme',
      body: JSON.stringify({
        id,
        kind: 'command.run',
        ts: Date.now(),
        team: 'acme',
        command: 'echo x',
      }),
    })
    await queue.flush()
    expect(await ann.libs.store.queuedCount()).toBe(0)
    queue.stop()
    const exported = server.cli(['audit', 'export', '--format', 'jsonl'])
    const runs = exported.split('\n').filter((l) => l.includes(id))
    expect(runs).toHaveLength(1)
    expect(runs[0]).toContain('"actor":"ann"')
    // The key was redacted before it left the app.
    expect(runs[0]).not.toContain('AKIAIOSFODNN7EXAMPLE')
    const approvals = exported.split('\n').filter((l) => l.includes('approval.'))
    expect(approvals.length).toBeGreaterThanOrEqual(2)
  }, 60_000)
})
