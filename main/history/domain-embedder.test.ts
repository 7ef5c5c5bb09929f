import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { DomainDeps } from '../domain'
import { EventHub } from '../ipc/event-hub'
import { Router } from '../ipc/router'
import { createHistoryDomain } from './domain'
import { HashedTrigramEmbedder } from './embedder'

const root = mkdtempSync(join(tmpdir(), 'cmdai-history-embedder-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

describe('an embedding model that arrives while the app runs', () => {
  it('is picked up when a download finishes, without a restart', async () => {
    const events = new EventHub()
    const router = new Router()
    const deps: DomainDeps = { router, events, dataDir: root, env: {}, host: 'electron' }
    let available = false
    let lookups = 0
    const domain = createHistoryDomain(deps, {
      findEmbedder: () => {
        lookups++
        return available ? new HashedTrigramEmbedder(64) : null
      },
    })
    const ctx = { clientId: 't' }
    try {
      events.emit('terminal:command', {
        ptyId: 't1',
        command: 'docker compose up -d',
        cwd: root,
        exitCode: 0,
        shell: '/bin/bash',
        startedAt: Date.now(),
        finishedAt: Date.now() + 5,
        durationMs: 5,
      })
      await expect
        .poll(async () => (await router.dispatch('history:stats', {}, ctx)).ok, { timeout: 90_000 })
        .toBe(true)
      const before = await router.dispatch(
        'history:search',
        { query: 'compose', mode: 'semantic' },
        ctx,
      )
      expect(before).toMatchObject({ ok: false, error: { code: 'unavailable' } })

      // A download of something else finishes: still nothing to embed with.
      const progress = {
        downloadId: 'd1',
        uri: 'hf:x/y/z.gguf',
        state: 'done' as const,
        bytes: 1,
        totalBytes: 1,
        bytesPerSecond: 0,
        etaSeconds: 0,
        error: null,
      }
      events.emit('models:progress', progress)
      expect(lookups).toBe(1)
      // Now the embedding model is on disk.
      available = true
      events.emit('models:progress', { ...progress, downloadId: 'd2' })
      await expect
        .poll(
          async () => {
            const r = await router.dispatch(
              'history:search',
              { query: 'compose', mode: 'semantic' },
              ctx,
            )
            return r.ok
              ? (r.value as { hits: Array<{ command: string }> }).hits.map((h) => h.command)
              : []
          },
          { timeout: 30_000 },
        )
        .toContain('docker compose up -d')
    } finally {
      await domain.dispose()
    }
  }, 150_000)
})
