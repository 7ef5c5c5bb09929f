import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { HistoryCommand } from '../../contract/history'
import { resolveAppRoot } from '../config/paths'
import type { DomainDeps } from '../domain'
import { EventHub } from '../ipc/event-hub'
import { Router } from '../ipc/router'
import { PtyService } from '../terminal/pty-service'
import { createHistoryDomain } from './domain'
import { LATEST_VERSION } from './migrations'
import { waitFor } from '../testing/wait-for'

const root = mkdtempSync(join(tmpdir(), 'cmdai-history-capture-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

describe('capture through a real PTY with shell integration', () => {
  it('records commands run in bash and answers searches through the router', async () => {
    const events = new EventHub()
    const router = new Router()
    const recorded: HistoryCommand[] = []
    events.subscribe((event, payload) => {
      if (event === 'history:recorded') recorded.push(payload as HistoryCommand)
    })
    const deps: DomainDeps = { router, events, dataDir: root, env: {}, host: 'electron' }
    const domain = createHistoryDomain(deps)
    // While the database opens, the status says so (the terminal does not wait for it).
    const first = await router.dispatch('history:status', {}, { clientId: 't' })
    expect(first).toMatchObject({ ok: true })

    const ptys = new PtyService({
      events,
      resourcesDir: join(resolveAppRoot(), 'resources'),
      env: { PATH: process.env.PATH, HOME: root, LANG: 'C.UTF-8', SHELL: '/bin/bash' },
      login: false,
    })
    try {
      const info = ptys.create({ cols: 100, rows: 30, cwd: root, shell: 'bash' }, 'test')
      ptys.write(info.id, 'echo captured-one\r')
      ptys.write(info.id, 'sh -c "exit 4"\r')
      ptys.write(info.id, 'export MY_TOKEN=supersecretvalue123; true\r')
      // The first open of a new database takes tens of seconds on a busy machine; commands wait for it.
      await waitFor('three recorded rows', () => recorded.length >= 3, 90_000)
      expect(recorded[0]).toMatchObject({
        command: 'echo captured-one',
        exitCode: 0,
        cwd: root,
        shell: 'bash',
        source: 'terminal',
        ptyId: info.id,
      })
      expect(recorded[1]).toMatchObject({ command: 'sh -c "exit 4"', exitCode: 4 })
      expect(recorded[2]!.command).toMatch(/^export MY_TOKEN=\[REDACTED/)
      expect(recorded[2]!.command).not.toContain('supersecretvalue123')

      const res = await router.dispatch(
        'history:search',
        { query: 'exit', mode: 'substring', filter: { exit: 'fail', cwd: root } },
        { clientId: 't' },
      )
      expect(
        res.ok && (res.value as { hits: { command: string }[] }).hits.map((h) => h.command),
      ).toEqual(['sh -c "exit 4"'])
      const status = await router.dispatch('history:status', {}, { clientId: 't' })
      expect(status).toMatchObject({
        ok: true,
        value: { state: 'ready', schemaVersion: LATEST_VERSION },
      })
    } finally {
      ptys.disposeAll()
      await domain.dispose()
    }
  }, 150_000)

  it('answers unavailable with the reason when another process owns the database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cmdai-history-capture2-'))
    const mk = () => {
      const router = new Router()
      const domain = createHistoryDomain({
        router,
        events: new EventHub(),
        dataDir: dir,
        env: {},
        host: 'electron',
      })
      return { router, domain }
    }
    const a = mk()
    await a.router.dispatch('history:stats', {}, { clientId: 't' })
    const b = mk()
    const res = await b.router.dispatch('history:search', { query: 'x' }, { clientId: 't' })
    expect(res).toMatchObject({ ok: false, error: { code: 'unavailable' } })
    expect(!res.ok && res.error.message).toMatch(/in use by the running cmdai app/)
    await b.domain.dispose()
    await a.domain.dispose()
    rmSync(dir, { recursive: true, force: true })
  }, 60_000)
})
