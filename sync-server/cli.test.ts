import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { CLOSE, SYNC_WS_PATH, readServerState } from '../contract/sync'
import { connectClient, freshDataDir, waitUntil } from './testing/harness'
import { processFixture, runCli, spawnServer } from './testing/process'

// Real servers, databases and processes: generous bounds for a busy 2-core machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 240_000 })

const fx = processFixture('cmdai-sync-cli-')
afterAll(() => fx.cleanup())

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

describe('cmdai-sync CLI', () => {
  it('explains itself', async () => {
    const help = await runCli(['--help'])
    expect(help.code).toBe(0)
    for (const cmd of ['start', 'token', 'team', 'member', 'key', 'audit', 'backup', 'restore'])
      expect(help.stdout).toContain(cmd)
    const sub = await runCli(['token', 'create', '--help'])
    expect(sub.stdout).toMatch(/--team[\s\S]*--user[\s\S]*--role[\s\S]*--ttl/)
    const bad = await runCli([
      'token',
      'create',
      '--data',
      fx.root,
      '--team',
      'acme',
      '--user',
      'ana',
      '--role',
      'god',
    ])
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toMatch(/admin, engineer, junior, readonly|Allowed choices/)
  })

  it('mints, lists and revokes tokens, also while the server runs; verifies, exports, backs up and restores', async () => {
    const dir = await freshDataDir(fx.root, 'data')
    // Offline: the CLI opens the data dir itself.
    const first = await runCli([
      'token',
      'create',
      '--data',
      dir,
      '--team',
      'acme',
      '--user',
      'ana',
      '--role',
      'admin',
      '--label',
      'laptop\u001b[31m',
    ])
    expect(first.code).toBe(0)
    expect(first.stdout.trim().split('\n').pop()).toMatch(JWT)
    expect(first.stderr).toContain('created team acme')

    const server = await spawnServer(['--data', dir])
    fx.servers.push(server)
    // Tokens are never logged, nor the database password.
    expect(JSON.stringify(server.logs)).not.toContain(first.stdout.trim())

    // While it runs: through the control channel.
    const minted = await runCli([
      'token',
      'create',
      '--data',
      dir,
      '--team',
      'acme',
      '--user',
      'bob',
      '--role',
      'readonly',
      '--ttl',
      '2h',
    ])
    expect(minted.code).toBe(0)
    const token = minted.stdout.trim().split('\n').pop()!
    expect(token).toMatch(JWT)
    const c = connectClient(`ws://127.0.0.1:${server.port}${SYNC_WS_PATH}`, 'acme/lib', token)
    fx.pool.add(c)
    await c.synced()
    await waitUntil(
      'read-only',
      () => readServerState(c.provider.awareness.getStates())?.readOnly === true,
    )

    const list = await runCli(['token', 'list', '--data', dir, '--team', 'acme'])
    expect(list.code).toBe(0)
    expect(list.stdout).toMatch(/ana\s+admin\s+active/)
    expect(list.stdout).toMatch(/bob\s+readonly\s+active/)
    expect(list.stdout).not.toContain('\u001b')

    const revoked = await runCli([
      'token',
      'revoke',
      '--data',
      dir,
      '--team',
      'acme',
      '--user',
      'bob',
    ])
    expect(revoked.code).toBe(0)
    expect((await c.closed).code).toBe(CLOSE.revoked)

    const hostile = await runCli([
      'member',
      'add',
      '--data',
      dir,
      '--team',
      '../etc',
      '--user',
      'x',
      '--role',
      'admin',
    ])
    expect(hostile.code).toBe(1)
    expect(hostile.stderr).toMatch(/team name/)

    // Verify, export and a live, consistent backup, all through the running server.
    const ok = await runCli(['audit', 'verify', '--data', dir])
    expect(ok.code).toBe(0)
    expect(ok.stdout).toMatch(/acme: intact/)

    const csv = await runCli([
      'audit',
      'export',
      '--data',
      dir,
      '--team',
      'acme',
      '--format',
      'csv',
    ])
    expect(csv.stdout.split('\r\n')[0]).toBe('seq,ts,team,kind,actor,role,room,data,prev,hash')
    expect(csv.stdout).toContain('token.revoke')

    const backupFile = join(fx.root, 'backup.gz')
    const backup = await runCli(['backup', '--data', dir, '--out', backupFile])
    expect(backup.code).toBe(0)
    expect(statSync(backupFile).mode & 0o777).toBe(0o600)

    server.child.kill('SIGTERM')
    expect((await server.exited).code).toBe(0)

    // Tamper with the log: verify names the record and exits 2.
    const segDir = join(dir, 'audit', 'acme')
    const seg = join(
      segDir,
      readdirSync(segDir).find((f) => f.endsWith('.jsonl') && f !== 'checkpoints.jsonl')!,
    )
    const lines = readFileSync(seg, 'utf8').split('\n')
    lines[1] = lines[1]!.replace('"bob"', '"eve"').replace('"ana"', '"eve"')
    writeFileSync(seg, lines.join('\n'))
    const bad = await runCli(['audit', 'verify', '--data', dir, '--team', 'acme'])
    expect(bad.code).toBe(2)
    expect(bad.stdout).toMatch(/acme: TAMPERED at record 2 /)

    // The backup (taken before the tampering) restores into a new data dir and verifies.
    const restoredDir = await freshDataDir(fx.root, 'restored')
    const restored = await runCli(['restore', '--data', restoredDir, '--in', backupFile])
    expect(restored.code).toBe(0)
    expect(restored.stdout).toMatch(/acme: intact/)
    const again = await runCli(['restore', '--data', restoredDir, '--in', backupFile])
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/already holds data/)
  }, 240_000)
})
