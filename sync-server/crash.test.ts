import { afterAll, describe, expect, it, vi } from 'vitest'
import { DOC_ROOT, SYNC_WS_PATH, readLibrary, writePattern } from '../contract/sync'
import { connectClient, freshDataDir, waitUntil } from './testing/harness'
import {
  mintOffline,
  processFixture,
  runCli,
  spawnServer,
  type ServerProcess,
} from './testing/process'

// Real servers, databases and processes: generous bounds for a busy 2-core machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 240_000 })

const fx = processFixture('cmdai-sync-crash-')
afterAll(() => fx.cleanup())

const url = (p: ServerProcess) => `ws://127.0.0.1:${p.port}${SYNC_WS_PATH}`

describe('crash and shutdown', () => {
  it('loses nothing acknowledged when the server is killed with SIGKILL mid-stream', async () => {
    const dir = await freshDataDir(fx.root, 'crash')
    const token = await mintOffline(dir, 'acme', 'ana', 'engineer')
    const first = await spawnServer(['--data', dir])
    fx.servers.push(first)
    const writer = connectClient(url(first), 'acme/lib', token)
    const observer = connectClient(url(first), 'acme/lib', token)
    fx.pool.add(writer)
    fx.pool.add(observer)
    await Promise.all([writer.synced(), observer.synced()])
    // What the observer received was relayed, so it was committed first: that is "acknowledged".
    const seen = new Set<string>()
    observer.doc.getMap(DOC_ROOT.patterns).observe((e) => {
      for (const key of e.keysChanged) seen.add(key)
    })
    let n = 0
    let killedAt: Set<string> | null = null
    const pump = setInterval(() => {
      for (let i = 0; i < 5; i++) {
        writePattern(writer.doc, {
          id: `p${n}`,
          title: `p${n}`,
          command: `echo ${n}`,
          author: 'ana',
          createdAt: n,
          updatedAt: n,
        })
        n++
      }
    }, 5)
    try {
      await waitUntil('observer saw 150 patterns', () => seen.size >= 150, 30_000)
      first.child.kill('SIGKILL')
      killedAt = new Set(seen)
    } finally {
      clearInterval(pump)
    }
    expect((await first.exited).signal).toBe('SIGKILL')
    expect(n).toBeGreaterThan(killedAt.size) // writes were still in flight

    const second = await spawnServer(['--data', dir])
    fx.servers.push(second)
    const check = connectClient(url(second), 'acme/lib', token)
    fx.pool.add(check)
    await check.synced()
    const lib = readLibrary(check.doc)
    const stored = new Set(lib.ok ? lib.value.patterns.map((p) => p.id) : [])
    const lost = [...killedAt].filter((id) => !stored.has(id))
    expect(lost).toEqual([])

    // The audit chain survived the kill (a torn last line is cut), checked by the CLI through
    // the running server's control channel.
    const verify = await runCli(['audit', 'verify', '--data', dir])
    expect(verify.stdout).toMatch(/acme: intact/)
    expect(verify.code).toBe(0)

    // SIGTERM: clients closed cleanly, pending work committed, a last checkpoint signed.
    second.child.kill('SIGTERM')
    expect(await second.exited).toEqual({ code: 0, signal: null })
    expect(check.closes.some((c) => c.code === 1001)).toBe(true)
    const exported = await runCli(['audit', 'export', '--data', dir, '--format', 'jsonl'])
    expect(exported.code).toBe(0)
    const kinds = exported.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { kind: string }).kind)
    expect(kinds).toContain('server.stop')
    expect(kinds.filter((k) => k === 'connection.close').length).toBeGreaterThanOrEqual(1)
  }, 180_000)
})
