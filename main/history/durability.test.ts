import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { CmdaiError } from '../../contract/errors'
import { acquireLock, readLock } from './lock'
import { redactForHistory } from './redact'
import { HistoryStore } from './store'

const root = mkdtempSync(join(tmpdir(), 'cmdai-history-crash-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

describe('crash safety', () => {
  it('loses no acknowledged row when the writer is killed with SIGKILL', async () => {
    const dir = join(root, 'history')
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'test-fixtures', 'crash-writer.ts'), dir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    let lastAck = 0
    let acks = 0
    const killed = new Promise<void>((resolve, reject) => {
      let buffered = ''
      child.stdout.on('data', (d: Buffer) => {
        buffered += d.toString()
        const lines = buffered.split('\n')
        buffered = lines.pop()!
        for (const line of lines) {
          const m = /^ack (\d+)$/.exec(line)
          if (!m) continue
          lastAck = Number(m[1])
          acks++
          // Kill mid-stream, while writes are in flight.
          if (acks === 150) child.kill('SIGKILL')
        }
      })
      child.on('exit', (code, signal) => {
        if (signal === 'SIGKILL') resolve()
        else reject(new Error(`writer exited with ${code}: ${stderr}`))
      })
    })
    await killed
    expect(acks).toBeGreaterThanOrEqual(150)
    // The lock of the dead writer is stale and is taken over.
    expect(readLock(join(root, 'history.lock'))?.pid).toBe(child.pid)
    const store = await HistoryStore.open({ dir, redact: redactForHistory })
    try {
      const res = await store.db.query<{ n: number; max: number }>(
        'SELECT count(*)::int AS n, max(id)::int AS max FROM commands',
      )
      const { n, max } = res.rows[0]!
      expect(n).toBeGreaterThanOrEqual(acks)
      expect(max).toBeGreaterThanOrEqual(lastAck)
      const ids = await store.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM commands WHERE id <= $1',
        [lastAck],
      )
      expect(ids.rows[0]!.n).toBe(lastAck)
      // The database still takes writes after recovery.
      const [row] = await store.recordCommands([
        { command: 'echo after', startedAt: Date.now(), source: 'terminal' },
      ])
      expect(row!.id).toBeGreaterThan(max)
    } finally {
      await store.close()
    }
  }, 120_000)
})

describe('single owner lock', () => {
  it('refuses a second owner while the first lives, with a clear message', () => {
    const path = join(root, 'other.lock')
    const held = acquireLock(path, 'app')
    try {
      expect(() => acquireLock(path, 'cli')).toThrowError(CmdaiError)
      expect(() => acquireLock(path, 'cli')).toThrowError(/in use by the running cmdai app \(pid/)
    } finally {
      held.release()
    }
    acquireLock(path, 'cli').release()
  })

  it('takes over a stale lock (dead pid) and an unreadable one', () => {
    const path = join(root, 'stale.lock')
    writeFileSync(path, JSON.stringify({ pid: 2 ** 22 + 12345, host: '', owner: 'app', since: 0 }))
    const held = acquireLock(path, 'cli')
    expect(readLock(path)?.pid).toBe(process.pid)
    held.release()
    writeFileSync(path, 'garbage')
    acquireLock(path, 'cli').release()
  })
})
