import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { AttachResult, Events, PtyInfo, Result } from '../../contract'
import type { Domain } from '../domain'
import { EventHub } from '../ipc/event-hub'
import { Router } from '../ipc/router'
import { waitFor } from '../testing/wait-for'
import { createTerminalDomain } from './domain'
import { pidsRunning, uniqueSeconds } from './testing'

let root: string
let home: string
let work: string

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'cmdai-views-'))
  home = join(root, 'home')
  work = join(home, 'project dir')
  mkdirSync(work, { recursive: true })
  writeFileSync(join(home, '.bashrc'), 'PS1="v$ "\n')
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

interface Delivered {
  event: string
  payload: unknown
  audience: string | null | undefined
}

interface App {
  router: Router
  events: EventHub
  domain: Domain
  delivered: Delivered[]
  call<T>(clientId: string, channel: string, args: unknown): Promise<T>
  /** Output of a terminal as delivered to one client. */
  screenOf(clientId: string, id: string): string
}

const apps: App[] = []
afterEach(async () => {
  for (const app of apps.splice(0)) await app.domain.dispose()
})

function startApp(dataDir: string, settings?: Record<string, unknown>): App {
  mkdirSync(dataDir, { recursive: true })
  if (settings) writeFileSync(join(dataDir, 'settings.json'), JSON.stringify(settings))
  const router = new Router()
  const events = new EventHub()
  const delivered: Delivered[] = []
  events.subscribe((event, payload, audience) => delivered.push({ event, payload, audience }))
  const domain = createTerminalDomain(
    {
      router,
      events,
      dataDir,
      env: { PATH: process.env.PATH, HOME: home, LANG: 'C.UTF-8', SHELL: '/bin/bash' },
      host: 'browser',
    },
    { pty: { hangupGraceMs: 300, login: false } },
  )
  const app: App = {
    router,
    events,
    domain,
    delivered,
    async call<T>(clientId: string, channel: string, args: unknown): Promise<T> {
      const result = (await router.dispatch(channel, args, { clientId })) as Result<T>
      if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`)
      return result.value
    },
    screenOf(clientId, id) {
      return delivered
        .filter(
          (d) =>
            d.event === 'pty:data' &&
            d.audience === clientId &&
            (d.payload as Events['pty:data']).id === id,
        )
        .map((d) => (d.payload as Events['pty:data']).data)
        .join('')
    },
  }
  apps.push(app)
  return app
}

const size = { cols: 100, rows: 30 }

async function openTab(app: App, clientId: string, cwd = work): Promise<PtyInfo> {
  const info = await app.call<PtyInfo>(clientId, 'pty:create', { ...size, cwd, shell: 'bash' })
  await waitFor('prompt', () => app.screenOf(clientId, info.id).includes('v$ '))
  return info
}

describe('shells outlive the page', () => {
  it('a page that comes back gets the same shell, its variables and its screen', async () => {
    const app = startApp(join(root, 'reload'))
    const first = await app.call<AttachResult>('page-1', 'pty:attach', { ...size })
    expect(first.outcome).toBe('new')
    expect(first.graceMinutes).toBe(10)
    const tab = await openTab(app, 'page-1')
    await app.call('page-1', 'pty:write', { id: tab.id, data: 'export X=42; echo marker-$X\r' })
    await waitFor('marker', () => app.screenOf('page-1', tab.id).includes('marker-42'))

    app.domain.onClientGone!('page-1') // the page reloads
    const back = await app.call<AttachResult>('page-2', 'pty:attach', {
      ...size,
      viewId: first.viewId,
    })
    expect(back.outcome).toBe('resumed')
    expect(back.viewId).toBe(first.viewId)
    expect(back.tabs.map((t) => t.info.id)).toEqual([tab.id])
    expect(back.tabs[0]!.info.pid).toBe(tab.pid)
    expect(back.tabs[0]!.screen).toContain('marker-42')
    await app.call('page-2', 'pty:write', { id: tab.id, data: 'echo again-$X\r' })
    await waitFor('same shell', () => app.screenOf('page-2', tab.id).includes('again-42'))
    // Output goes to the page that shows the tab, not to the one that left.
    expect(app.screenOf('page-1', tab.id)).not.toContain('again-42')
  })

  it('a page without a view id takes the newest view no page holds', async () => {
    const app = startApp(join(root, 'reopen'))
    await app.call('page-1', 'pty:attach', { ...size })
    const tab = await openTab(app, 'page-1')
    app.domain.onClientGone!('page-1')
    const reopened = await app.call<AttachResult>('page-2', 'pty:attach', { ...size })
    expect(reopened.outcome).toBe('resumed')
    expect(reopened.tabs[0]!.info.id).toBe(tab.id)
  })

  it('a second page never steals a shell: in-use, then its own view or an explicit take-over', async () => {
    const app = startApp(join(root, 'second'))
    const first = await app.call<AttachResult>('page-1', 'pty:attach', { ...size })
    const tab = await openTab(app, 'page-1')
    const second = await app.call<AttachResult>('page-2', 'pty:attach', {
      ...size,
      viewId: first.viewId,
    })
    expect(second).toMatchObject({ outcome: 'in-use', tabs: [], viewId: first.viewId })
    // Nothing moved: page 1 still types into its shell; page 2 cannot.
    await app.call('page-1', 'pty:write', { id: tab.id, data: 'echo still-mine\r' })
    await expect(app.call('page-2', 'pty:write', { id: tab.id, data: 'x' })).rejects.toThrow(
      /not_found/,
    )
    const own = await app.call<AttachResult>('page-2', 'pty:attach', { ...size, mode: 'new' })
    expect(own.outcome).toBe('new')
    expect(own.viewId).not.toBe(first.viewId)

    const taken = await app.call<AttachResult>('page-3', 'pty:attach', {
      ...size,
      viewId: first.viewId,
      mode: 'take-over',
    })
    expect(taken.outcome).toBe('resumed')
    expect(
      app.delivered.find((d) => d.event === 'pty:detached' && d.audience === 'page-1')?.payload,
    ).toEqual({ viewId: first.viewId, reason: 'taken-over' })
    await expect(app.call('page-1', 'pty:write', { id: tab.id, data: 'x' })).rejects.toThrow(
      /not_found/,
    )
  })

  it('shells and their jobs end when the grace period runs out', async () => {
    // 0.01 minutes: 600 ms.
    const app = startApp(join(root, 'grace'), { terminal: { reconnectGraceMinutes: 0.01 } })
    const first = await app.call<AttachResult>('page-1', 'pty:attach', { ...size })
    const tab = await openTab(app, 'page-1')
    const job = uniqueSeconds()
    await app.call('page-1', 'pty:write', { id: tab.id, data: `sleep ${job} &\r` })
    await waitFor('job', () => pidsRunning('sleep', job).length === 1)
    app.domain.onClientGone!('page-1')
    await new Promise((r) => setTimeout(r, 200))
    expect(pidsRunning('sleep', job)).toHaveLength(1) // still within the grace period
    await waitFor('job ended', () => pidsRunning('sleep', job).length === 0, 5000)
    const later = await app.call<AttachResult>('page-2', 'pty:attach', {
      ...size,
      viewId: first.viewId,
    })
    expect(later.outcome).toBe('new')
  })
})

describe('tabs come back on the next start', () => {
  it('restores shell, cwd, title and scrollback, with secrets redacted on disk', async () => {
    const dataDir = join(root, 'restore')
    const oldUmask = process.umask(0o022)
    try {
      const app = startApp(dataDir)
      const first = await app.call<AttachResult>('page-1', 'pty:attach', { ...size })
      const tab = await openTab(app, 'page-1')
      const token = 'ghp_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8'
      await app.call('page-1', 'pty:write', {
        id: tab.id,
        data: `printf '\\033]0;my title\\007'; echo restore-marker ${token}\r`,
      })
      await waitFor('marker', () => /restore-marker ghp_/.test(app.screenOf('page-1', tab.id)))
      await waitFor('title', () => app.delivered.some((d) => d.event === 'pty:title'))
      await app.domain.dispose()
      apps.splice(apps.indexOf(app), 1)

      const file = join(dataDir, 'terminal', 'tabs.json')
      expect(statSync(file).mode & 0o777).toBe(0o600)
      expect(statSync(join(dataDir, 'terminal')).mode & 0o777).toBe(0o700)
      const text = readFileSync(file, 'utf8')
      expect(text).toContain('restore-marker')
      expect(text).not.toContain(token)

      const next = startApp(dataDir)
      const back = await next.call<AttachResult>('page-9', 'pty:attach', {
        ...size,
        viewId: first.viewId,
      })
      expect(back.outcome).toBe('restored')
      expect(back.tabs).toHaveLength(1)
      const restored = back.tabs[0]!
      expect(restored.info.cwd).toBe(work)
      expect(restored.info.title).toBe('my title')
      expect(restored.info.shell).toBe(tab.shell)
      expect(restored.info.pid).not.toBe(tab.pid)
      expect(restored.restoredAt).toBeGreaterThan(0)
      expect(restored.screen).toContain('restore-marker')
      expect(restored.screen).toContain('restored from')
      await next.call('page-9', 'pty:write', { id: restored.info.id, data: 'pwd\r' })
      await waitFor('new shell in the old cwd', () =>
        next.screenOf('page-9', restored.info.id).includes(work),
      )
    } finally {
      process.umask(oldUmask)
    }
  })

  it('saves nothing when restoring is off, and forgets what was saved', async () => {
    const dataDir = join(root, 'opt-out')
    const app = startApp(dataDir, { terminal: { restoreTabs: false } })
    await app.call('page-1', 'pty:attach', { ...size })
    await openTab(app, 'page-1')
    await app.domain.dispose()
    apps.splice(apps.indexOf(app), 1)
    expect(() => statSync(join(dataDir, 'terminal', 'tabs.json'))).toThrow()
    const next = startApp(dataDir)
    const back = await next.call<AttachResult>('page-1', 'pty:attach', { ...size })
    expect(back.outcome).toBe('new')
  })

  it.each([
    ['garbage with NUL bytes', () => Buffer.from('{"version":1,\0\0\u0001garbage')],
    ['deeply nested JSON', () => Buffer.from('['.repeat(200_000) + ']'.repeat(200_000))],
    [
      'a screen over the limit',
      () =>
        Buffer.from(
          JSON.stringify({
            version: 1,
            views: [
              {
                id: 'abcdefgh12',
                savedAt: Date.now(),
                tabs: [
                  {
                    shell: 'bash',
                    cwd: '/',
                    title: null,
                    cols: 80,
                    rows: 24,
                    screen: 'x'.repeat(2e6),
                  },
                ],
              },
            ],
          }),
        ),
    ],
    ['a file over 16 MB', () => Buffer.alloc(17 * 1024 * 1024, 0x20)],
  ])('a corrupt tabs file (%s) is moved aside and reported, never loaded', async (_, body) => {
    const dataDir = join(root, `corrupt-${Math.random().toString(36).slice(2)}`)
    mkdirSync(join(dataDir, 'terminal'), { recursive: true })
    writeFileSync(join(dataDir, 'terminal', 'tabs.json'), body())
    const started = Date.now()
    const app = startApp(dataDir)
    expect(Date.now() - started).toBeLessThan(3000)
    const notice = app.delivered.find((d) => d.event === 'app:notice')
    expect((notice?.payload as { message: string }).message).toMatch(/not restored.*kept as/)
    const left = readdirSync(join(dataDir, 'terminal'))
    expect(left.some((f) => f.startsWith('tabs.json.unreadable-'))).toBe(true)
    const back = await app.call<AttachResult>('page-1', 'pty:attach', { ...size })
    expect(back.outcome).toBe('new')
  })
})
