import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { resolveAppRoot } from '../config/paths'
import { pidsRunning, uniqueSeconds } from '../terminal/testing'
import { waitFor } from '../testing/wait-for'

// `cmdai serve` as users run it (a child process), against a stand-in renderer build so that no
// electron-vite build is needed: the token and port it keeps, and what its stop does to shells.
// The runs share one data dir: the database is created once (slow), then only opened.

let root: string
let outDir: string
let home: string
let shared: string
const running: ChildProcess[] = []

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'cmdai-serve-'))
  outDir = join(root, 'out')
  home = join(root, 'home')
  mkdirSync(join(outDir, 'renderer'), { recursive: true })
  mkdirSync(home)
  writeFileSync(join(outDir, 'renderer', 'index.html'), '<!doctype html><title>cmdai</title>')
  writeFileSync(join(home, '.bashrc'), 'PS1="srv$ "\n')
  shared = join(root, 'data')
})
afterAll(() => rmSync(root, { recursive: true, force: true }))
afterEach(() => {
  for (const child of running.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
})

interface Served {
  child: ChildProcess
  url: URL
  output: () => string
}

async function serve(dataDir: string, args: string[] = []): Promise<Served> {
  const child = spawn(process.execPath, ['bin/cmdai.mjs', 'serve', ...args], {
    cwd: resolveAppRoot(),
    env: {
      PATH: process.env.PATH,
      HOME: home,
      SHELL: '/bin/bash',
      LANG: 'C.UTF-8',
      CMDAI_DATA_DIR: dataDir,
      CMDAI_OUT_DIR: outDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  running.push(child)
  let output = ''
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()))
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()))
  const url = await waitFor(
    'serve to print its URL',
    () => {
      if (child.exitCode !== null) throw new Error(`serve exited ${child.exitCode}:\n${output}`)
      const match = /running at (http:\/\/\S+)/.exec(output)
      return match ? new URL(match[1]!) : undefined
    },
    60_000,
  )
  return { child, url, output: () => output }
}

function stop(served: Served, signal: NodeJS.Signals): Promise<number | null> {
  return new Promise((resolve) => {
    served.child.once('exit', (code) => resolve(code))
    served.child.kill(signal)
  })
}

/** A page's socket: attach, open a tab, run a background job in it. */
async function openShellWithJob(served: Served): Promise<{ ws: WebSocket; job: string }> {
  const token = served.url.searchParams.get('token')!
  const ws = new WebSocket(`ws://${served.url.host}/ws`, {
    headers: { origin: served.url.origin, cookie: `cmdai_token=${token}` },
  })
  await new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  let nextId = 1
  const call = (channel: string, args: unknown) =>
    new Promise<{ ok: boolean; value?: { id: string } }>((resolve) => {
      const id = nextId++
      const onMessage = (raw: WebSocket.RawData) => {
        const frame = JSON.parse(raw.toString()) as { t: string; id?: number; result?: never }
        if (frame.t === 'res' && frame.id === id) {
          ws.off('message', onMessage)
          resolve(frame.result!)
        }
      }
      ws.on('message', onMessage)
      ws.send(JSON.stringify({ t: 'req', id, channel, args }))
    })
  // Stopping waits for the database; a first run creates it, which is slow on a busy machine.
  for (const deadline = Date.now() + 90_000; Date.now() < deadline;) {
    const status = (await call('history:status', {})) as { value?: { state: string } }
    if (status.value?.state !== 'opening') break
    await new Promise((r) => setTimeout(r, 250))
  }
  await call('pty:attach', { cols: 80, rows: 24 })
  const created = await call('pty:create', { cols: 80, rows: 24, shell: 'bash', cwd: home })
  const job = uniqueSeconds()
  await call('pty:write', { id: created.value!.id, data: `sleep ${job} &\r` })
  await waitFor('background job', () => pidsRunning('sleep', job).length === 1)
  return { ws, job }
}

const SLOW = 120_000

describe('cmdai serve', () => {
  it(
    'keeps its token and port across restarts; --new-token rotates the token',
    { timeout: SLOW },
    async () => {
      const dataDir = shared
      const first = await serve(dataDir)
      const file = join(dataDir, 'serve.json')
      expect(statSync(file).mode & 0o777).toBe(0o600)
      expect(await stop(first, 'SIGTERM')).toBe(0)

      const second = await serve(dataDir)
      expect(second.url.href).toBe(first.url.href)
      // The old page's cookie still opens the page.
      const page = await fetch(`${second.url.origin}/`, {
        headers: { cookie: `cmdai_token=${first.url.searchParams.get('token')}` },
      })
      expect(page.status).toBe(200)
      await stop(second, 'SIGINT')

      const rotated = await serve(dataDir, ['--new-token'])
      expect(rotated.url.port).toBe(first.url.port)
      expect(rotated.url.searchParams.get('token')).not.toBe(first.url.searchParams.get('token'))
      const refused = await fetch(`${rotated.url.origin}/`, {
        headers: { cookie: `cmdai_token=${first.url.searchParams.get('token')}` },
      })
      expect(refused.status).toBe(403)
      expect(await stop(rotated, 'SIGTERM')).toBe(0)
    },
  )

  it('refuses to start over a damaged serve.json, and says how to fix it', async () => {
    const dataDir = join(root, 'damaged')
    mkdirSync(dataDir, { recursive: true })
    writeFileSync(join(dataDir, 'serve.json'), '{"token": "\u0000not hex", "port": 99999}')
    const child = spawn(process.execPath, ['bin/cmdai.mjs', 'serve'], {
      cwd: resolveAppRoot(),
      env: { ...process.env, CMDAI_DATA_DIR: dataDir, CMDAI_OUT_DIR: outDir, HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    running.push(child)
    let output = ''
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()))
    const code = await new Promise((resolve) => child.once('exit', resolve))
    expect(code).toBe(1)
    expect(output).toMatch(/serve\.json is damaged.*--new-token/)
  })

  it.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)(
    'on %s, ends every shell with its background jobs before exiting',
    { timeout: SLOW },
    async (signal) => {
      const served = await serve(shared, ['--port', '0'])
      const { job } = await openShellWithJob(served)
      const code = await stop(served, signal)
      expect(code, served.output()).toBe(0)
      expect(pidsRunning('sleep', job)).toEqual([])
    },
  )

  it(
    'a page gone past the grace period takes its shells and their jobs with it',
    { timeout: SLOW },
    async () => {
      writeFileSync(
        join(shared, 'settings.json'),
        JSON.stringify({ terminal: { reconnectGraceMinutes: 0.02 } }),
      )
      const served = await serve(shared, ['--port', '0'])
      const { ws, job } = await openShellWithJob(served)
      ws.close()
      await new Promise((r) => setTimeout(r, 400))
      expect(pidsRunning('sleep', job)).toHaveLength(1) // within the 1.2 s grace period
      await waitFor('job ended', () => pidsRunning('sleep', job).length === 0, 10_000)
      await stop(served, 'SIGTERM')
    },
  )
})
