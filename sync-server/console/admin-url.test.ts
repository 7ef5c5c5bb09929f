import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { freshDataDir } from '../testing/harness'
import { mintOffline, processFixture, runCli, spawnServer } from '../testing/process'

vi.setConfig({ testTimeout: 120_000 })

/**
 * `cmdai-sync admin-url` as an admin runs it: on a stopped data dir (the link works once the
 * server starts) and against the running server (through its control channel, with its port);
 * the link signs in once; the console page is served with its CSP.
 */
const fx = processFixture('cmdai-admin-url-')
afterAll(() => fx.cleanup())

const lastLine = (text: string) => text.trim().split('\n').pop()!

describe('cmdai-sync admin-url', () => {
  it('issues a one-time link offline and online, refuses strangers, and the server honours it', async () => {
    const dir = await freshDataDir(fx.root, 'data')
    await mintOffline(dir, 'acme', 'ada', 'admin')

    const refused = await runCli(['admin-url', '--data', dir, '--team', 'acme', '--user', 'eve'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('eve is not a member of acme')
    const badUrl = await runCli([
      'admin-url',
      '--data',
      dir,
      '--team',
      'acme',
      '--user',
      'ada',
      '--url',
      'javascript:alert(1)',
    ])
    expect(badUrl.code).not.toBe(0)

    // The server is not running: the code is stored; the link names the port given.
    const offline = await runCli([
      ...['admin-url', '--data', dir, '--team', 'acme', '--user', 'ada', '--port', '4999'],
    ])
    expect(offline.code).toBe(0)
    const offlineLink = lastLine(offline.stdout)
    expect(offlineLink).toMatch(
      /^http:\/\/127\.0\.0\.1:4999\/admin\/signin\?code=[A-Za-z0-9_-]{43}$/,
    )
    expect(offline.stderr).toContain('ada (admin in acme)')

    // A console build stands in for `npm run build:console` (its contents do not matter here).
    const assets = join(fx.root, 'console-ui')
    mkdirSync(join(assets, 'assets'), { recursive: true })
    writeFileSync(join(assets, 'index.html'), '<!doctype html><title>console</title>')
    const srv = await spawnServer(['--data', dir, '--console-dir', assets])
    fx.servers.push(srv)
    const base = `http://127.0.0.1:${srv.port}`

    // Online: through the control channel, with the running server's port.
    const online = await runCli(['admin-url', '--data', dir, '--team', 'acme', '--user', 'ada'])
    expect(online.code).toBe(0)
    const link = lastLine(online.stdout)
    expect(link.startsWith(`${base}/admin/signin?code=`)).toBe(true)
    const withUrl = await runCli([
      ...['admin-url', '--data', dir, '--team', 'acme', '--user', 'ada'],
      ...['--url', 'https://sync.example.com/'],
    ])
    expect(lastLine(withUrl.stdout)).toMatch(/^https:\/\/sync\.example\.com\/admin\/signin\?code=/)

    for (const l of [link, offlineLink.replace('http://127.0.0.1:4999', base)]) {
      const first = await fetch(l, { redirect: 'manual' })
      expect(first.status).toBe(303)
      expect(first.headers.get('set-cookie')).toContain('HttpOnly')
      const second = await fetch(l, { redirect: 'manual' })
      expect(second.status).toBe(401)
    }
    const page = await fetch(`${base}/admin/`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect(page.headers.get('x-frame-options')).toBe('DENY')
    expect(await page.text()).toContain('<title>console</title>')
    // Nothing outside the build is served.
    for (const path of [
      '/admin/assets/..%2F..%2Fpackage.json',
      '/admin/assets/%00',
      '/admin/../etc/passwd',
    ])
      expect((await fetch(`${base}${path}`)).status).not.toBe(200)

    // The log records who asked for links and who signed in.
    srv.child.kill('SIGTERM')
    await srv.exited
    const exported = await runCli(['audit', 'export', '--data', dir, '--team', 'acme'])
    const kinds = exported.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; data: { step?: string } })
      .filter((r) => r.kind === 'console.signin')
      .map((r) => r.data.step)
    expect(kinds.filter((k) => k === 'link-issued')).toHaveLength(3)
    expect(kinds.filter((k) => k === 'session')).toHaveLength(2)
  })
})
