import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chownSync, existsSync, mkdirSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { userInfo } from 'node:os'

/**
 * Real PostgreSQL and Redis for tests, started on loopback in temp dirs. Missing binaries are an
 * error, never a skip: CI installs both (`.ci/run`), and a scale-out test that silently did not
 * run would prove nothing.
 */
const PG_BIN = process.env.CMDAI_PG_BIN ?? '/usr/lib/postgresql/15/bin'

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

/** Postgres refuses to run as root; the Debian package's `postgres` user can. */
function asPgUser(cmd: string, args: string[]): { cmd: string; args: string[] } {
  if (userInfo().uid !== 0) return { cmd, args }
  return { cmd: 'runuser', args: ['-u', 'postgres', '--', cmd, ...args] }
}

function run(cmd: string, args: string[], what: string): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 })
  if (r.status !== 0)
    throw new Error(`${what} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout || r.error}`)
}

export interface PostgresInstance {
  url: string
  stop(): Promise<void>
}

export async function startPostgres(root: string): Promise<PostgresInstance> {
  for (const bin of ['initdb', 'pg_ctl'])
    if (!existsSync(join(PG_BIN, bin)))
      throw new Error(
        `PostgreSQL is not installed (${join(PG_BIN, bin)} missing): apt-get install postgresql (CI: .ci/run)`,
      )
  const dir = join(root, 'pg')
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  if (userInfo().uid === 0) {
    const pg = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' })
    if (pg.status !== 0)
      throw new Error('No postgres user to run PostgreSQL as (install the postgresql package)')
    const uid = Number(pg.stdout.trim())
    chownSync(root, uid, -1)
    chownSync(dir, uid, -1)
  }
  const port = await freePort()
  const initdb = asPgUser(join(PG_BIN, 'initdb'), [
    '-D',
    join(dir, 'db'),
    '-A',
    'trust',
    '-U',
    'cmdai',
    '--no-sync',
  ])
  run(initdb.cmd, initdb.args, 'initdb')
  const start = asPgUser(join(PG_BIN, 'pg_ctl'), [
    '-D',
    join(dir, 'db'),
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`,
    '-l',
    join(dir, 'log'),
    '-w',
    'start',
  ])
  run(start.cmd, start.args, 'pg_ctl start')
  return {
    url: `postgres://cmdai@127.0.0.1:${port}/postgres`,
    stop: async () => {
      const stop = asPgUser(join(PG_BIN, 'pg_ctl'), [
        '-D',
        join(dir, 'db'),
        '-m',
        'immediate',
        '-w',
        'stop',
      ])
      spawnSync(stop.cmd, stop.args, { timeout: 30_000 })
    },
  }
}

export interface RedisInstance {
  url: string
  child: ChildProcess
  stop(): Promise<void>
}

export async function startRedis(): Promise<RedisInstance> {
  const which = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' })
  if (which.status !== 0)
    throw new Error('redis-server is not installed: apt-get install redis-server (CI: .ci/run)')
  const port = await freePort()
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('redis-server did not start')), 20_000)
    let out = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`redis-server exited (${code}): ${out}`))
    })
  })
  return {
    url: `redis://127.0.0.1:${port}`,
    child,
    stop: async () => {
      if (child.exitCode !== null) return
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await exited
    },
  }
}
