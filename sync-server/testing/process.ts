import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { Committer } from '../rooms/committer'
import { createAdmin } from '../admin/admin'
import { openBackend } from '../backend'
import type { Role } from '../../contract/sync'
import { clientPool, tempRoot } from './harness'

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'cmdai-sync.mjs')

export interface ServerProcess {
  child: ChildProcess
  port: number
  /** Every JSON log line so far. */
  logs: Array<Record<string, unknown>>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Runs `cmdai-sync start` as a real process and waits until it listens. */
export async function spawnServer(args: string[], timeoutMs = 60_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, [BIN, 'start', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const logs: Array<Record<string, unknown>> = []
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  )
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), timeoutMs)
    let buffered = ''
    child.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString()
      const lines = buffered.split('\n')
      buffered = lines.pop()!
      for (const line of lines) {
        try {
          const entry = JSON.parse(line) as Record<string, unknown>
          logs.push(entry)
          if (entry.msg === 'listening') {
            clearTimeout(timer)
            resolve(Number(entry.port))
          }
        } catch {
          // not a log line
        }
      }
    })
    void exited.then(({ code, signal }) => {
      clearTimeout(timer)
      reject(new Error(`server exited (${code ?? signal}) before listening: ${stderr}`))
    })
  })
  return { child, port, logs, exited }
}

/** Runs a `cmdai-sync` command to completion. */
export function runCli(
  args: string[],
  timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`cmdai-sync ${args.join(' ')} timed out: ${stderr}`))
    }, timeoutMs)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** Mints a token directly on a stopped data dir (faster than spawning the CLI). */
export async function mintOffline(
  dataDir: string,
  team: string,
  user: string,
  role: Role,
): Promise<string> {
  const backend = await openBackend({ dataDir }, 'cli')
  try {
    const committer = new Committer(backend.storage, backend.audit)
    const admin = createAdmin(
      {
        storage: backend.storage,
        keys: await backend.keys(),
        audit: backend.audit,
        commit: (e) => committer.commit(e),
      },
      'test',
    )
    const { token } = await admin.tokenCreate({ team, user, role })
    await committer.stop()
    return token
  } finally {
    await backend.close()
  }
}

/** A test file's temp dir, clients and server processes, cleaned up together. */
export function processFixture(prefix: string) {
  const tmp = tempRoot(prefix)
  const pool = clientPool()
  const servers: ServerProcess[] = []
  return {
    root: tmp.root,
    pool,
    servers,
    cleanup() {
      pool.destroyAll()
      for (const s of servers) s.child.kill('SIGKILL')
      tmp.cleanup()
    },
  }
}
