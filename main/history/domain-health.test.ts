import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { HistoryStatus, ImportProgress, ImportSummary } from '../../contract/history'
import type { DomainDeps } from '../domain'
import { EventHub } from '../ipc/event-hub'
import { Router } from '../ipc/router'
import { createHistoryDomain } from './domain'
import { createTemplate } from './test-fixtures/template-db'

let t: Awaited<ReturnType<typeof createTemplate>>
beforeAll(async () => {
  t = await createTemplate('cmdai-history-domain-health-')
}, 120_000)
afterAll(() => t?.remove())

describe('the app’s history domain', () => {
  it('a damaged database: status and event carry the problem, the lock is let go, reopen after repair', async () => {
    const dir = t.fresh('damaged')
    const dataDir = dirname(dir)
    renameSync(join(dir, 'PG_VERSION'), join(dataDir, 'PG_VERSION.kept'))
    const events = new EventHub()
    const router = new Router()
    const states: HistoryStatus[] = []
    const progress: ImportProgress[] = []
    events.subscribe((event, payload) => {
      if (event === 'history:state') states.push(payload as HistoryStatus)
      if (event === 'history:importProgress') progress.push(payload as ImportProgress)
    })
    const deps: DomainDeps = { router, events, dataDir, env: {}, host: 'browser' }
    const domain = createHistoryDomain(deps, { backupDelayMs: null })
    const ctx = { clientId: 't' }
    try {
      await expect.poll(() => states.at(-1)?.state, { timeout: 60_000 }).toBe('failed')
      expect(states.at(-1)!.problem).toMatchObject({
        file: join(dir, 'PG_VERSION'),
        repair: expect.stringContaining('cmdai history doctor') as string,
      })
      const status = await router.dispatch('history:status', {}, ctx)
      expect(status).toMatchObject({ ok: true, value: { state: 'failed' } })
      const search = await router.dispatch('history:search', { query: 'x' }, ctx)
      expect(search).toMatchObject({ ok: false, error: { code: 'unavailable' } })
      expect(!search.ok && search.error.message).toContain('PG_VERSION is missing')
      // `cmdai history doctor` may run now (even from the app's own terminal).
      expect(existsSync(join(dataDir, 'history.lock'))).toBe(false)

      renameSync(join(dataDir, 'PG_VERSION.kept'), join(dir, 'PG_VERSION'))
      const reopened = await router.dispatch('history:reopen', {}, ctx)
      expect(reopened).toMatchObject({ ok: true, value: { state: 'ready', problem: null } })
      expect(JSON.parse(readFileSync(join(dataDir, 'history.lock'), 'utf8'))).toMatchObject({
        pid: process.pid,
        owner: 'app',
      })

      const file = join(dataDir, 'import.zsh_history')
      writeFileSync(file, ': 1700000000:0;make build\n: 1700000001:0;echo a\0b\n')
      const imported = await router.dispatch('history:import', { path: file }, ctx)
      expect(imported.ok && (imported.value as ImportSummary)).toMatchObject({
        format: 'zsh',
        imported: 1,
        skipped: 1,
        skips: [{ line: 2, reason: 'the command contains a NUL byte' }],
      })
      expect(progress.map((p) => p.phase)).toEqual(
        expect.arrayContaining(['reading', 'finishing', 'done']),
      )
      expect(new Set(progress.map((p) => p.id)).size).toBe(1)
      const missing = await router.dispatch('history:import', { path: join(dataDir, 'nope') }, ctx)
      expect(missing).toMatchObject({ ok: false, error: { code: 'not_found' } })
      const noPath = await router.dispatch('history:import', { format: 'csv' }, ctx)
      expect(noPath).toMatchObject({ ok: false, error: { code: 'invalid_input' } })
    } finally {
      await domain.dispose()
    }
    expect(existsSync(join(dataDir, 'history.lock'))).toBe(false)
  }, 180_000)
})
