import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EventName, GenerateResult, LlmState } from '../../contract'
import { ensureFixtureModel } from '../../scripts/fixture-model'
import type { Domain } from '../domain'
import { EventHub } from '../ipc/event-hub'
import { Router } from '../ipc/router'
import { createLlmDomain } from './domain'

let dataDir: string
let tiny: string
let domain: Domain
const router = new Router()
const hub = new EventHub()
const seen: Array<{ event: EventName; payload: unknown }> = []
hub.subscribe((event, payload) => seen.push({ event, payload }))
const ctx = { clientId: 'test' }

beforeAll(() => {
  tiny = ensureFixtureModel('tiny')
  dataDir = mkdtempSync(join(tmpdir(), 'cmdai-llm-domain-'))
})
afterAll(async () => {
  await domain?.dispose()
  rmSync(dataDir, { recursive: true, force: true })
})

describe('llm domain over the router, with the real safety engine', () => {
  it('starts without blocking and preloads the model in the background', async () => {
    const started = performance.now()
    domain = createLlmDomain({
      router,
      events: hub,
      dataDir,
      env: { CMDAI_MODEL: tiny },
      host: 'browser',
    })
    expect(performance.now() - started).toBeLessThan(200)
    await expect
      .poll(
        () =>
          seen.some((e) => e.event === 'llm:state' && (e.payload as LlmState).state === 'ready'),
        {
          timeout: 20_000,
        },
      )
      .toBe(true)
    const status = await router.dispatch('llm:status', {}, ctx)
    expect(status).toMatchObject({
      ok: true,
      value: { state: 'ready', compute: 'cpu', model: { source: 'env' } },
    })
  })

  it('generates a safety-checked command and streams deltas to the event hub', async () => {
    seen.length = 0
    const res = await router.dispatch(
      'llm:generate',
      { request: 'delete the build folder', requestId: 'g1' },
      ctx,
    )
    expect(res.ok).toBe(true)
    const value = (res as { value: GenerateResult }).value
    expect(['safe', 'moderate', 'high', 'critical']).toContain(value.verdict.risk)
    expect(['allow', 'confirm', 'block']).toContain(value.verdict.action)
    expect(value.verdict.command).toBe(value.command)
    expect(seen.filter((e) => e.event === 'llm:token').length).toBeGreaterThan(3)
    expect(seen.find((e) => e.event === 'llm:command')?.payload).toMatchObject({
      requestId: 'g1',
      command: value.command,
    })
  })

  it('validates input and answers unknown cancels', async () => {
    expect(await router.dispatch('llm:generate', { request: '' }, ctx)).toMatchObject({
      ok: false,
      error: { code: 'invalid_input' },
    })
    expect(await router.dispatch('llm:cancel', { requestId: 'nope' }, ctx)).toEqual({
      ok: true,
      value: { cancelled: false },
    })
  })

  it('imports, lists, activates and removes models', async () => {
    const copy = join(dataDir, 'my-model.gguf')
    copyFileSync(tiny, copy)
    const imported = await router.dispatch('models:import', { path: copy }, ctx)
    expect(imported).toMatchObject({ ok: true, value: { id: 'my-model.gguf', origin: 'imported' } })
    const list = await router.dispatch('models:list', {}, ctx)
    expect(list).toMatchObject({ ok: true, value: { models: [{ id: 'my-model.gguf' }] } })
    expect((list as { value: { catalog: unknown[] } }).value.catalog.length).toBeGreaterThan(2)
    const active = await router.dispatch('models:setActive', { id: 'my-model.gguf' }, ctx)
    // CMDAI_MODEL still wins over the setting, and says so.
    expect(active).toMatchObject({ ok: true, value: { source: 'env' } })
    expect(JSON.parse(readFileSync(join(dataDir, 'settings.json'), 'utf8'))).toMatchObject({
      llm: { model: 'my-model.gguf' },
    })
    expect(await router.dispatch('models:remove', { id: 'my-model.gguf' }, ctx)).toEqual({
      ok: true,
      value: { removed: true },
    })
    expect(
      await router.dispatch('models:import', { path: join(dataDir, 'missing.gguf') }, ctx),
    ).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    })
  })
})
