import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { get as httpGet } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createServices, type Services } from '../services'
import { startBrowserServer, type BrowserServer } from './browser-server'
import { resolveStaticPath } from './static-files'

let dir: string
let services: Services
let server: BrowserServer

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cmdai-server-'))
  const staticDir = join(dir, 'renderer')
  mkdirSync(staticDir)
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>cmdai</title>')
  writeFileSync(join(dir, 'secret.txt'), 'outside the root')
  services = createServices({ dataDir: join(dir, 'data'), host: 'browser', version: '0.0.0-test' })
  server = await startBrowserServer({ services, staticDir, token: 'a'.repeat(48) })
})

afterAll(async () => {
  await server.close()
  await services.dispose()
  rmSync(dir, { recursive: true, force: true })
})

const base = () => `http://127.0.0.1:${server.port}`
const cookie = () => `cmdai_token=${server.token}`

function connect(headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`, { headers })
    ws.once('open', () => resolve(ws))
    ws.once('error', reject)
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
  })
}

function request(ws: WebSocket, frame: unknown): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const onMessage = (raw: WebSocket.RawData) => {
      const parsed = JSON.parse(raw.toString()) as Record<string, unknown>
      if (parsed.t === 'evt') return
      ws.off('message', onMessage)
      resolve(parsed)
    }
    ws.on('message', onMessage)
    ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame))
  })
}

describe('browser-mode server', () => {
  it('binds to loopback only and prints a URL with the token', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${'a'.repeat(48)}`)
  })

  it('refuses pages without the token and trades a good token for a cookie', async () => {
    expect((await fetch(`${base()}/`)).status).toBe(403)
    expect((await fetch(`${base()}/?token=wrong`)).status).toBe(403)
    const good = await fetch(server.url, { redirect: 'manual' })
    expect(good.status).toBe(303)
    expect(good.headers.get('set-cookie')).toMatch(/cmdai_token=a+; HttpOnly; SameSite=Strict/)
    expect(good.headers.get('location')).toBe('/')
    const page = await fetch(`${base()}/`, { headers: { cookie: cookie() } })
    expect(page.status).toBe(200)
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect(await page.text()).toContain('<title>cmdai</title>')
  })

  it('refuses a foreign Host header (DNS rebinding) and path traversal', async () => {
    // fetch() will not send a custom Host header; node:http will.
    const rebindingStatus = await new Promise<number | undefined>((resolve, reject) => {
      const req = httpGet(
        {
          host: '127.0.0.1',
          port: server.port,
          path: '/',
          headers: { cookie: cookie(), host: `attacker.example:${server.port}` },
        },
        (res) => {
          res.resume()
          resolve(res.statusCode)
        },
      )
      req.on('error', reject)
    })
    expect(rebindingStatus).toBe(421)
    expect(resolveStaticPath('/srv/app', '/../secret.txt')).toBe('/srv/app/secret.txt')
    expect(resolveStaticPath('/srv/app', '/%2e%2e/%2e%2e/etc/passwd')).toBe('/srv/app/etc/passwd')
    expect(resolveStaticPath('/srv/app', '/%00')).toBeNull()
    const escaped = await fetch(`${base()}/..%2fsecret.txt`, { headers: { cookie: cookie() } })
    expect(escaped.status).toBe(404)
  })

  it('refuses sockets without the token or from another origin', async () => {
    const origin = base()
    await expect(connect({ origin })).rejects.toThrow(/403/)
    await expect(connect({ origin: 'http://evil.example', cookie: cookie() })).rejects.toThrow(
      /403/,
    )
    const ws = await connect({ origin, cookie: cookie() })
    ws.close()
  })

  it('answers requests through the same router, with typed errors for bad input', async () => {
    const ws = await connect({ origin: base(), cookie: cookie() })
    const info = await request(ws, { t: 'req', id: 1, channel: 'app:info', args: {} })
    expect(info).toMatchObject({
      t: 'res',
      id: 1,
      result: { ok: true, value: { host: 'browser' } },
    })
    expect(await request(ws, '{oops')).toMatchObject({
      t: 'error',
      error: { code: 'invalid_input' },
    })
    expect(await request(ws, { t: 'req', id: 2, channel: 'no:such', args: {} })).toMatchObject({
      id: 2,
      result: { ok: false, error: { code: 'unknown_channel' } },
    })
    ws.close()
  })

  // The database opens on the same thread meanwhile and can stall it for seconds on a busy
  // machine: generous waits.
  it(
    'streams a terminal only to its page; the shell outlives the socket and re-attaches',
    {
      timeout: 120_000,
    },
    async () => {
      const collect = (ws: WebSocket) => {
        const data: string[] = []
        ws.on('message', (raw) => {
          const frame = JSON.parse(raw.toString()) as {
            t: string
            name?: string
            payload?: { data: string }
          }
          if (frame.t === 'evt' && frame.name === 'pty:data') data.push(frame.payload!.data)
        })
        return data
      }
      const headers = { origin: base(), cookie: cookie() }
      const owner = await connect(headers)
      const other = await connect(headers)
      const ownerData = collect(owner)
      const otherData = collect(other)
      const attached = await request(owner, {
        t: 'req',
        id: 1,
        channel: 'pty:attach',
        args: { cols: 80, rows: 24 },
      })
      const viewId = (attached.result as { value: { viewId: string } }).value.viewId
      const created = await request(owner, {
        t: 'req',
        id: 2,
        channel: 'pty:create',
        args: { cols: 80, rows: 24, shell: '/bin/sh', cwd: dir },
      })
      const id = (created.result as { value: { id: string } }).value.id
      await request(owner, {
        t: 'req',
        id: 3,
        channel: 'pty:write',
        args: { id, data: 'X=6; echo $((X*7))\n' },
      })
      await expect.poll(() => ownerData.join(''), { timeout: 45_000 }).toContain('42')
      expect(otherData.join('')).toBe('')
      owner.close()
      other.close()

      // The socket is gone; the shell is not (grace period), and a new socket gets it back.
      await new Promise((r) => setTimeout(r, 300))
      const listed = await services.router.dispatch('pty:list', {}, { clientId: 'x' })
      expect((listed as { value: { id: string }[] }).value.map((p) => p.id)).toContain(id)
      const again = await connect(headers)
      const againData = collect(again)
      const resumed = await request(again, {
        t: 'req',
        id: 1,
        channel: 'pty:attach',
        args: { cols: 80, rows: 24, viewId },
      })
      expect(resumed.result).toMatchObject({ ok: true, value: { outcome: 'resumed', viewId } })
      await request(again, {
        t: 'req',
        id: 2,
        channel: 'pty:write',
        args: { id, data: 'echo $((X*100))\n' },
      })
      await expect.poll(() => againData.join(''), { timeout: 45_000 }).toContain('600')
      await request(again, { t: 'req', id: 3, channel: 'pty:dispose', args: { id } })
      again.close()
    },
  )
})
