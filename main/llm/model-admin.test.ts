import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LlmResults, LlmState } from '../../contract'
import { ensureFixtureModel } from '../../scripts/fixture-model'
import type { Domain } from '../domain'
import { EventHub } from '../ipc/event-hub'
import { Router } from '../ipc/router'
import { createLlmDomain } from './domain'

let dataDir: string
let domain: Domain
const router = new Router()
const hub = new EventHub()
const states: LlmState[] = []
hub.subscribe((event, payload) => {
  if (event === 'llm:state') states.push(payload as LlmState)
})
const ctx = { clientId: 'test' }

async function call<T>(channel: Parameters<Router['dispatch']>[0], args: object): Promise<T> {
  const result = await router.dispatch(channel, args, ctx)
  if (!result.ok) throw new Error(`${String(channel)}: ${result.error.message}`)
  return result.value as T
}
const list = () => call<LlmResults['models:list']>('models:list', {})
const status = () => call<LlmState>('llm:status', {})
const settingsFile = () => JSON.parse(readFileSync(join(dataDir, 'settings.json'), 'utf8'))

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'cmdai-model-admin-'))
  domain = createLlmDomain({ router, events: hub, dataDir, env: {}, host: 'browser' })
})
afterAll(async () => {
  await domain.dispose()
  rmSync(dataDir, { recursive: true, force: true })
})

describe('one truth about the active model', () => {
  it('names the recommended catalog model and does not call one of two models "the only"', async () => {
    const tiny = ensureFixtureModel('tiny')
    for (const name of ['alpha.gguf', 'beta.gguf']) {
      copyFileSync(tiny, join(dataDir, name))
      await call('models:import', { path: join(dataDir, name) })
    }
    const { active, recommended, catalog } = await list()
    expect(catalog.map((m) => m.id)).toContain(recommended)
    expect(active).toMatchObject({ id: 'alpha.gguf', source: 'default' })
    expect(active?.reason).toBe('the first of 2 models on disk, by name')
    // The first model on disk becomes active at once: the engine loads it after the import.
    await expect
      .poll(async () => (await status()).model?.id, { timeout: 30_000 })
      .toBe('alpha.gguf')
  })

  it('deleting the active model unloads it, forgets the setting, and the next one takes over', async () => {
    await call('models:setActive', { id: 'beta.gguf' })
    const loaded = async () => {
      const now = await status()
      return `${now.state} ${now.model?.id}`
    }
    await expect.poll(loaded, { timeout: 30_000 }).toBe('ready beta.gguf')
    expect(settingsFile().llm.model).toBe('beta.gguf')

    states.length = 0
    expect(await call('models:remove', { id: 'beta.gguf' })).toEqual({ removed: true })
    expect(existsSync(join(dataDir, 'models', 'beta.gguf'))).toBe(false)
    expect(settingsFile().llm.model).toBeUndefined()
    // No event names the deleted file once it is gone.
    expect(states[0]).toMatchObject({ state: 'idle', model: null })
    await expect
      .poll(async () => (await status()).model?.id, { timeout: 30_000 })
      .toBe('alpha.gguf')
    expect(states.every((s) => s.model?.id !== 'beta.gguf')).toBe(true)
    const after = await list()
    expect(after.active?.id).toBe('alpha.gguf')
    expect(after.active?.reason).toBe('the only model on disk')
    expect(after.models.map((m) => [m.id, m.active])).toEqual([['alpha.gguf', true]])
  })

  it('deleting the last model leaves no model anywhere', async () => {
    expect(await call('models:remove', { id: 'alpha.gguf' })).toEqual({ removed: true })
    expect(await status()).toMatchObject({ state: 'idle', model: null, compute: null })
    expect((await list()).active).toBeNull()
    const generated = await router.dispatch(
      'llm:generate',
      { request: 'list files', requestId: 'after-delete' },
      ctx,
    )
    expect(generated).toMatchObject({
      ok: false,
      error: { code: 'not_found', message: expect.stringContaining((await list()).recommended) },
    })
  })
})
