import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { readLibrary } from '../../contract/sync'
import { loadStarter, openLibraries } from './open'

const root = mkdtempSync(join(tmpdir(), 'cmdai-library-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

describe('local libraries', () => {
  it('keeps the personal library across restarts, private on disk, and feeds replicas deltas', async () => {
    const dataDir = join(root, 'restart')
    const updates: Uint8Array[] = []
    const events = {
      update: (_id: string, u: Uint8Array) => updates.push(u),
      info() {},
      removed() {},
      presence() {},
      conflicts() {},
    }
    const a = await openLibraries({ dataDir, owner: 'app', connect: false, events, starter: [] })
    const replica = new Y.Doc()
    Y.applyUpdate(replica, Buffer.from(a.hub.stateFor('personal')))
    const saved = await a.hub.save('personal', {
      title: 'Tail a log',
      command: 'tail -n {{lines}} {{file}}',
      parameters: [{ name: 'lines', description: 'how many', default: '100' }],
      tags: ['files'],
    })
    expect(saved.author).toBeTruthy()
    // The replica catches up from deltas alone.
    for (const u of updates) Y.applyUpdate(replica, u)
    const r = readLibrary(replica)
    expect(r.ok && r.value.patterns.map((p) => p.title)).toEqual(['Tail a log'])
    expect(updates.every((u) => u.length < 1_000)).toBe(true)
    await a.close()
    expect(statSync(join(dataDir, 'library')).mode & 0o777).toBe(0o700)
    expect(statSync(join(dataDir, 'library', 'db')).mode & 0o777).toBe(0o700)

    const b = await openLibraries({ dataDir, owner: 'app', connect: false, starter: [] })
    expect(b.hub.patterns('personal')).toEqual([saved])
    await expect(b.hub.save('starter', { title: 'x', command: 'x' })).rejects.toThrow(/read-only/)
    await b.hub.remove('personal', saved.id)
    expect(b.hub.patterns('personal')).toEqual([])
    await b.close()
  }, 60_000)

  it('loses no acknowledged edit when killed with SIGKILL', async () => {
    const dataDir = join(root, 'crash')
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'test-fixtures', 'crash-writer.ts'), dataDir],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const acked = new Set<number>()
    await new Promise<void>((resolve, reject) => {
      let buffered = ''
      child.stdout.on('data', (d: Buffer) => {
        buffered += d.toString()
        const lines = buffered.split('\n')
        buffered = lines.pop()!
        for (const line of lines) {
          const m = /^ack (\d+)$/.exec(line)
          if (!m) continue
          acked.add(Number(m[1]))
          if (acked.size === 200) child.kill('SIGKILL')
        }
      })
      child.on('exit', (code, signal) =>
        signal === 'SIGKILL' ? resolve() : reject(new Error(`exit ${code}: ${stderr}`)),
      )
    })
    expect(acked.size).toBeGreaterThanOrEqual(200)
    const libs = await openLibraries({ dataDir, owner: 'app', connect: false, starter: [] })
    const ids = new Set(libs.hub.patterns('personal').map((p) => Number(p.id.slice(1))))
    for (const n of acked) expect(ids.has(n), `acknowledged pattern ${n}`).toBe(true)
    await libs.close()
  }, 90_000)

  it('ships a starter library of at least 100 valid patterns', () => {
    const starter = loadStarter()
    expect(starter.length).toBeGreaterThanOrEqual(100)
  })
})
