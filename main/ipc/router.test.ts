import { describe, expect, it } from 'vitest'
import { CmdaiError } from '../../contract'
import { Router } from './router'

const ctx = { clientId: 'test' }

describe('Router', () => {
  it('rejects a second handler for the same channel', () => {
    const router = new Router()
    router.handle('pty:list', () => [])
    expect(() => router.handle('pty:list', () => [])).toThrow(/already registered/)
  })

  it('rejects channels that are not in the contract', () => {
    const router = new Router()
    expect(() => router.handle('nope:nope' as never, () => null as never)).toThrow(
      /not in the contract/,
    )
  })

  it('answers an unknown channel with a typed error', async () => {
    const result = await new Router().dispatch('fs:rmrf', {}, ctx)
    expect(result).toEqual({
      ok: false,
      error: { code: 'unknown_channel', message: expect.stringContaining('fs:rmrf') },
    })
    const notString = await new Router().dispatch(42, {}, ctx)
    expect(notString.ok).toBe(false)
  })

  it('validates arguments before the handler runs', async () => {
    const router = new Router()
    let called = false
    router.handle('pty:resize', () => {
      called = true
      return null
    })
    const result = await router.dispatch('pty:resize', { id: 'a', cols: -1, rows: 'x' }, ctx)
    expect(called).toBe(false)
    expect(result.ok).toBe(false)
    if (!result.ok) {
      expect(result.error.code).toBe('invalid_input')
      expect(result.error.message).toMatch(/cols/)
    }
    const extra = await router.dispatch('pty:resize', { id: 'a', cols: 80, rows: 24, evil: 1 }, ctx)
    expect(extra.ok).toBe(false)
  })

  it('passes parsed arguments and wraps results and thrown errors', async () => {
    const router = new Router()
    router.handle('pty:kill', ({ id }) => {
      if (id === 'missing') throw new CmdaiError('not_found', 'No terminal missing')
      if (id === 'boom') throw new Error('kaboom')
      return null
    })
    expect(await router.dispatch('pty:kill', { id: 'ok' }, ctx)).toEqual({ ok: true, value: null })
    expect(await router.dispatch('pty:kill', { id: 'missing' }, ctx)).toEqual({
      ok: false,
      error: { code: 'not_found', message: 'No terminal missing' },
    })
    expect(await router.dispatch('pty:kill', { id: 'boom' }, ctx)).toEqual({
      ok: false,
      error: { code: 'internal', message: 'kaboom' },
    })
  })

  it('reports a contract channel that has no handler as unavailable', async () => {
    const result = await new Router().dispatch('app:info', {}, ctx)
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.error.code).toBe('unavailable')
  })
})
