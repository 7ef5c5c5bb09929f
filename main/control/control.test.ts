import { spawn, spawnSync } from 'node:child_process'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { CmdaiError } from '../../contract/errors'
import type { DomainDeps } from '../domain'
import { EventHub } from '../ipc/event-hub'
import { Router } from '../ipc/router'
import { createSafetyDomain } from '../safety/domain'
import { waitFor } from '../testing/wait-for'
import { connectToApp, type ControlClient } from './client'
import { controlPaths } from './paths'
import { startControlServer, type ControlServer } from './server'

const root = mkdtempSync(join(tmpdir(), 'cmdai-control-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
let seq = 0
const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

function app(dataDir = join(root, `d${++seq}`), limits: { maxLineBytes?: number } = {}) {
  const router = new Router()
  const events = new EventHub()
  const deps: DomainDeps = { router, events, dataDir, env: process.env, host: 'browser' }
  createSafetyDomain(deps)
  const gone: string[] = []
  const start = () =>
    startControlServer({
      router,
      events,
      dataDir,
      version: '9.9.9',
      host: 'browser',
      clientGone: (id) => gone.push(id),
      ...limits,
    }).then((server) => {
      cleanups.push(() => server.close())
      return server
    })
  return { dataDir, router, events, gone, start }
}

async function client(dataDir: string, name = 'test'): Promise<ControlClient> {
  const c = await connectToApp(dataDir, { client: { name } })
  if (!c) throw new Error('no app')
  cleanups.push(() => c.close())
  return c
}

/** A raw connection: what comes back for what we send. */
function raw(socketPath: string) {
  const socket = connect(socketPath)
  let text = ''
  socket.on('data', (d) => (text += d.toString()))
  socket.on('error', () => undefined)
  const closed = new Promise<void>((r) => socket.once('close', () => r()))
  cleanups.push(() => socket.destroy())
  return {
    socket,
    closed,
    frames: () =>
      text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { t: string; error?: { code: string } }),
  }
}

const info = (dataDir: string) =>
  JSON.parse(readFileSync(controlPaths(dataDir).info, 'utf8')) as { token: string; pid: number }

describe('control socket', () => {
  it('answers contract requests with the same validation and envelopes as the renderer', async () => {
    const a = app()
    const server = await a.start()
    expect(statSync(server.socket).mode & 0o777).toBe(0o600)
    expect(statSync(server.info).mode & 0o777).toBe(0o600)
    expect(statSync(a.dataDir).mode & 0o777).toBe(0o700)
    const c = await client(a.dataDir)
    expect(c.app).toMatchObject({ pid: process.pid, version: '9.9.9', host: 'browser' })
    const verdict = await c.call('safety:check', { command: 'rm -rf /' })
    expect(verdict).toMatchObject({ risk: 'critical', action: 'block' })
    await expect(c.call('safety:check', { command: 42 } as never)).rejects.toMatchObject({
      code: 'invalid_input',
    })
    await expect(c.call('nope:nothing' as never, {} as never)).rejects.toMatchObject({
      code: 'unknown_channel',
    })
    // Not for local programs: the user's terminals, settings and approvals.
    for (const channel of ['pty:write', 'agent:decide', 'settings:update'] as const) {
      await expect(c.call(channel, {} as never)).rejects.toMatchObject({ code: 'forbidden' })
    }
    c.close()
    await waitFor('clientGone', () => a.gone.length === 1)
  })

  it('serves many clients at once, each with many requests in flight', async () => {
    const a = app()
    await a.start()
    const clients = await Promise.all(
      Array.from({ length: 16 }, (_, i) => client(a.dataDir, `c${i}`)),
    )
    const results = await Promise.all(
      clients.flatMap((c, i) =>
        Array.from({ length: 25 }, (_, j) =>
          c.call('safety:check', { command: `echo ${i}-${j}` }).then((v) => v.command),
        ),
      ),
    )
    expect(results).toEqual(
      Array.from({ length: 16 }, (_, i) =>
        Array.from({ length: 25 }, (_, j) => `echo ${i}-${j}`),
      ).flat(),
    )
  })

  it('forwards only subscribed events, never terminal output', async () => {
    const a = app()
    await a.start()
    const c = await client(a.dataDir)
    const seen: string[] = []
    c.on('app:notice', (p) => seen.push(p.message))
    c.on('pty:data' as never, () => seen.push('pty!'))
    await c.call('safety:redact', { text: 'sync' }) // the subscription is on the wire first
    a.events.emit('app:menu', { action: 'new-tab' })
    a.events.emit('pty:data' as never, { id: 'x', data: 'secret output', seq: 1 } as never)
    a.events.emit('app:notice', { level: 'info', message: 'hello' })
    a.events.emit('app:notice', { level: 'info', message: 'not yours' }, 'control-999')
    await waitFor('event', () => seen.length >= 1)
    await c.call('safety:redact', { text: 'sync' })
    expect(seen).toEqual(['hello'])
  })

  it('refuses connections without the token, and hostile frames, within bounds', async () => {
    const a = app(undefined, { maxLineBytes: 64 * 1024 })
    const server = await a.start()
    const wrong = raw(server.socket)
    wrong.socket.write(
      `${JSON.stringify({ t: 'hello', protocol: 1, token: 'f'.repeat(64), client: { name: 'x' } })}\n`,
    )
    await wrong.closed
    expect(wrong.frames()).toEqual([
      { t: 'error', error: { code: 'forbidden', message: 'Wrong token' } },
    ])
    // A request before hello, with the right token in it, is still refused.
    const early = raw(server.socket)
    early.socket.write(
      `${JSON.stringify({ t: 'req', id: 1, channel: 'safety:check', args: {} })}\n`,
    )
    await early.closed
    expect(early.frames()[0]?.error?.code).toBe('invalid_input')

    const started = Date.now()
    const hostile = [
      'not json\n',
      '\0\0\0\n',
      `${'['.repeat(50_000)}${']'.repeat(50_000)}\n`,
      `${JSON.stringify({ t: 'hello', protocol: 1, token: info(a.dataDir).token, client: { name: 'x'.repeat(10_000) } })}\n`,
      '\x1b[31m\x1b]0;title\x07\n',
      'x'.repeat(200 * 1024), // no newline, over the limit
    ]
    for (const payload of hostile) {
      const conn = raw(server.socket)
      conn.socket.write(payload)
      await conn.closed
      expect(conn.frames()[0]?.t).toBe('error')
    }
    expect(Date.now() - started).toBeLessThan(10_000)
    // After all that, the app still serves a well-behaved client.
    const c = await client(a.dataDir)
    expect((await c.call('safety:check', { command: 'ls' })).risk).toBe('safe')
    // Hostile frames after a good hello are answered and end only that connection.
    const t = info(a.dataDir).token
    const authed = raw(server.socket)
    authed.socket.write(
      `${JSON.stringify({ t: 'hello', protocol: 1, token: t, client: { name: 'x' } })}\n`,
    )
    authed.socket.write(
      `${JSON.stringify({ t: 'req', id: -1, channel: 'safety:check', args: {} })}\n`,
    )
    await authed.closed
    expect(authed.frames().map((f) => f.t)).toEqual(['welcome', 'error'])
  })

  it('another local user cannot connect (0600 socket), even in a readable data dir', async () => {
    const isRoot = process.getuid?.() === 0
    if (!isRoot || !existsSync('/usr/sbin/runuser')) return
    const dataDir = join(root, `open${++seq}`)
    mkdirSync(dataDir, { mode: 0o755 })
    chmodSync(dataDir, 0o755)
    chmodSync(root, 0o755)
    const a = app(dataDir)
    const server = await a.start()
    const probe = spawnSync(
      'runuser',
      [
        '-u',
        'nobody',
        '--',
        process.execPath,
        '-e',
        `const s=require('net').connect(${JSON.stringify(server.socket)});s.on('connect',()=>{console.log('CONNECTED');process.exit(0)});s.on('error',e=>{console.log(e.code);process.exit(0)})`,
      ],
      { encoding: 'utf8', timeout: 20_000 },
    )
    chmodSync(root, 0o700)
    expect(probe.stdout.trim()).toBe('EACCES')
  })

  it('with no app running the client says so at once', async () => {
    const dataDir = join(root, `none${++seq}`)
    let started = Date.now()
    expect(await connectToApp(dataDir, { client: { name: 't' } })).toBeNull()
    // A control.json left by a process that is gone.
    mkdirSync(dataDir, { mode: 0o700 })
    writeFileSync(
      controlPaths(dataDir).info,
      JSON.stringify({ pid: 2 ** 22 + 12345, token: 'x', socket: 'y' }),
      { mode: 0o600 },
    )
    expect(await connectToApp(dataDir, { client: { name: 't' } })).toBeNull()
    // Our own pid, but nothing listening on the socket.
    writeFileSync(controlPaths(dataDir).info, JSON.stringify({ pid: process.pid, token: 'x' }), {
      mode: 0o600,
    })
    expect(await connectToApp(dataDir, { client: { name: 't' } })).toBeNull()
    expect(Date.now() - started).toBeLessThan(2_000)
    // A control.json others can read is not trusted.
    chmodSync(controlPaths(dataDir).info, 0o644)
    started = Date.now()
    await expect(connectToApp(dataDir, { client: { name: 't' } })).rejects.toBeInstanceOf(
      CmdaiError,
    )
  })

  it('cleans up a stale socket left by a killed app, but never steals a live one', async () => {
    const a = app()
    mkdirSync(a.dataDir, { mode: 0o700 })
    const socketPath = controlPaths(a.dataDir).socket
    const child = spawn(process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(socketPath)},()=>console.log('up'))`,
    ])
    await new Promise((r) => child.stdout.once('data', r))
    child.kill('SIGKILL')
    await new Promise((r) => child.once('exit', r))
    expect(statSync(socketPath).isSocket()).toBe(true)
    const server = await a.start()
    const c = await client(a.dataDir)
    expect((await c.call('safety:check', { command: 'ls' })).risk).toBe('safe')

    const second = app(a.dataDir)
    await expect(second.start()).rejects.toMatchObject({ code: 'conflict' })
    // The first app is untouched and still reachable.
    expect((await c.call('safety:check', { command: 'pwd' })).risk).toBe('safe')
    await server.close()
    expect(existsSync(socketPath)).toBe(false)
    expect(existsSync(controlPaths(a.dataDir).info)).toBe(false)
  })

  it('refuses links and foreign files instead of following or replacing them', async () => {
    const target = join(root, `target${++seq}`)
    writeFileSync(target, 'precious')
    // A link at the socket path.
    const a = app()
    mkdirSync(a.dataDir, { mode: 0o700 })
    symlinkSync(target, controlPaths(a.dataDir).socket)
    await expect(a.start()).rejects.toMatchObject({ code: 'forbidden' })
    // A regular file at the socket path.
    const b = app()
    mkdirSync(b.dataDir, { mode: 0o700 })
    writeFileSync(controlPaths(b.dataDir).socket, 'mine')
    await expect(b.start()).rejects.toMatchObject({ code: 'conflict' })
    // A link at control.json: not written through.
    const c = app()
    mkdirSync(c.dataDir, { mode: 0o700 })
    symlinkSync(target, controlPaths(c.dataDir).info)
    await expect(c.start()).rejects.toMatchObject({ code: 'forbidden' })
    await expect(connectToApp(c.dataDir, { client: { name: 't' } })).rejects.toMatchObject({
      code: 'forbidden',
    })
    expect(readFileSync(target, 'utf8')).toBe('precious')
  })

  it('moves the socket to a private temp folder when the data dir path is too long', async () => {
    const a = app(join(root, 'x'.repeat(120)))
    const server: ControlServer = await a.start()
    expect(server.socket.startsWith(join(tmpdir(), `cmdai-${process.getuid?.()}`))).toBe(true)
    expect(statSync(join(server.socket, '..')).mode & 0o777).toBe(0o700)
    const c = await client(a.dataDir)
    expect((await c.call('safety:check', { command: 'ls' })).risk).toBe('safe')
  })
})
