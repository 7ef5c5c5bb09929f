import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { CmdaiError } from '../../contract/errors'
import { importHistory } from './import'
import { acquireLock, readLock } from './lock'
import { redactForHistory } from './redact'
import { HistoryStore } from './store'
import { generateHistory } from './synthetic'

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

describe('crash safety of imports', () => {
  it('a bulk import killed with SIGKILL keeps every acknowledged batch; importing again completes it', async () => {
    const dir = join(root, 'import-crash', 'history')
    const file = join(root, 'big.zsh_history')
    const rows = generateHistory({ count: 60_000, seed: 3 })
    writeFileSync(
      file,
      rows.map((r, i) => `: ${Math.floor(r.startedAt / 1000)}:0;${r.command} #${i}`).join('\n') +
        '\n',
    )
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(import.meta.dirname, 'test-fixtures', 'crash-importer.ts'),
        dir,
        file,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    let acked = 0
    await new Promise<void>((resolve, reject) => {
      let buffered = ''
      child.stdout.on('data', (d: Buffer) => {
        buffered += d.toString()
        const lines = buffered.split('\n')
        buffered = lines.pop()!
        for (const line of lines) {
          const m = /^ack (\d+)$/.exec(line)
          if (m) acked = Math.max(acked, Number(m[1]))
          // Kill mid-import, with batches still to come.
          if (acked >= 15_000 && child.exitCode === null) child.kill('SIGKILL')
          if (line === 'finished') reject(new Error('the import finished before the kill'))
        }
      })
      child.on('exit', (code, signal) => {
        if (signal === 'SIGKILL') resolve()
        else reject(new Error(`importer exited with ${code}: ${stderr}`))
      })
    })
    expect(acked).toBeGreaterThanOrEqual(15_000)
    // Reopening recovers from the WAL and passes every check (nothing reads as damaged).
    const store = await HistoryStore.open({ dir, redact: redactForHistory })
    try {
      const n = async () =>
        (await store.db.query<{ n: number }>('SELECT count(*)::int AS n FROM commands')).rows[0]!.n
      const kept = await n()
      expect(kept).toBeGreaterThanOrEqual(acked)
      expect(kept).toBeLessThan(60_000)
      const again = await importHistory(store, file)
      expect(again.imported + again.duplicates).toBe(60_000)
      expect(again.duplicates).toBe(kept)
      expect(await n()).toBe(60_000)
    } finally {
      await store.close()
    }
  }, 300_000)
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
