import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

/**
 * A real team sync server for tests and e2e: `cmdai-sync start` as a child process on a free
 * loopback port over a fresh data dir, tokens minted with `cmdai-sync token create`, exactly as a
 * self-hoster does.
 */
export interface TeamServer {
  url: string
  port: number
  dataDir: string
  token(
    team: string,
    user: string,
    role: 'admin' | 'engineer' | 'junior' | 'readonly',
    ttl?: string,
  ): string
  /** Runs another `cmdai-sync` subcommand against the data dir; returns stdout. */
  cli(args: string[]): string
  stop(): Promise<void>
  /** Kills it with SIGKILL (nothing flushed). */
  kill(): void
  /** Starts it again on the same port and data dir. */
  restart(): Promise<void>
}

const ROOT = resolve(import.meta.dirname, '..', '..', '..')
const BIN = join(ROOT, 'bin', 'cmdai-sync.mjs')

export async function startTeamServer(
  dataDir?: string,
  options: { args?: string[] } = {},
): Promise<TeamServer> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'cmdai-team-'))
  let child: ChildProcess
  let port = 0
  const launch = async (wantPort: number) => {
    child = spawn(
      process.execPath,
      [
        BIN,
        'start',
        '--port',
        String(wantPort),
        '--data',
        dir,
        '--log-level',
        'info',
        ...(options.args ?? []),
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, CMDAI_SYNC_DATA: dir },
      },
    )
    port = await new Promise<number>((resolvePort, reject) => {
      let out = ''
      const timer = setTimeout(
        () => reject(new Error(`sync server did not start: ${out.slice(-2000)}`)),
        180_000,
      )
      const onData = (d: Buffer) => {
        out += d.toString()
        for (const line of out.split('\n')) {
          if (!line.includes('"ready"')) continue
          try {
            const m = /:(\d+)\/sync/.exec(JSON.parse(line).url as string)
            if (m) {
              clearTimeout(timer)
              resolvePort(Number(m[1]))
            }
          } catch {
            // Not a complete line yet.
          }
        }
      }
      child.stdout!.on('data', onData)
      child.stderr!.on('data', onData)
      child.on('exit', (code) =>
        reject(new Error(`sync server exited ${code}: ${out.slice(-2000)}`)),
      )
    })
  }
  await launch(0)
  const cli = (args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args, '--data', dir], {
      encoding: 'utf8',
      timeout: 60_000,
    })
    if (r.status !== 0) throw new Error(`cmdai-sync ${args.join(' ')} failed: ${r.stderr}`)
    return r.stdout
  }
  return {
    get url() {
      return `http://127.0.0.1:${port}`
    },
    get port() {
      return port
    },
    dataDir: dir,
    token: (team, user, role, ttl = '1d') =>
      cli(['token', 'create', '--team', team, '--user', user, '--role', role, '--ttl', ttl])
        .trim()
        .split('\n')
        .pop()!,
    cli,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r))
        child.kill('SIGTERM')
        await exited
      }
      if (!dataDir) rmSync(dir, { recursive: true, force: true })
    },
    kill() {
      child.kill('SIGKILL')
    },
    async restart() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r))
        child.kill('SIGTERM')
        await exited
      }
      await launch(port)
    },
  }
}
