import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { tempRoot } from '../testing/harness'
import { connectControl, startControl } from './control'

const tmp = tempRoot('cmdai-sync-control-')
afterAll(() => tmp.cleanup())

describe('control channel', () => {
  it('answers only the holder of the secret, validates requests, and forgets itself on close', async () => {
    const path = join(tmp.root, 'control.json')
    const calls: Array<[string, unknown, string]> = []
    const control = await startControl(path, {
      call: async (op, input, actor) => {
        calls.push([op, input, actor])
        if (op === 'boom') throw new Error('no such thing')
        return { ok: op }
      },
      stream: async (_op, _input, write) => {
        for (let i = 0; i < 3; i++) await write(`line ${i}\n`)
      },
    })
    expect(statSync(path).mode & 0o777).toBe(0o600)
    const { port, secret } = JSON.parse(readFileSync(path, 'utf8')) as {
      port: number
      secret: string
    }
    const post = (body: string, auth?: string) =>
      fetch(`http://127.0.0.1:${port}/control/call`, {
        method: 'POST',
        headers: auth ? { authorization: auth } : {},
        body,
      }).then((r) => r.status)
    const valid = JSON.stringify({ op: 'ping', input: {}, actor: 'x' })
    expect(await post(valid)).toBe(403)
    expect(await post(valid, `Bearer ${secret.slice(0, -1)}x`)).toBe(403)
    expect(await post(valid, 'Bearer ' + 'a'.repeat(10_000))).toBe(403)
    expect(await post('{nope', `Bearer ${secret}`)).toBe(400)
    expect(
      await post(
        JSON.stringify({ op: 'x'.repeat(100), input: {}, actor: 'a' }),
        `Bearer ${secret}`,
      ),
    ).toBe(400)
    expect(await post('x'.repeat(2 << 20), `Bearer ${secret}`)).toBe(413)

    const client = await connectControl(path, 'cli:test')
    expect(await client!.call('tokenList', { team: 'acme' })).toEqual({ ok: 'tokenList' })
    await expect(client!.call('boom', {})).rejects.toThrow('no such thing')
    let text = ''
    await client!.stream('auditExport', {}, (c) => (text += c))
    expect(text).toBe('line 0\nline 1\nline 2\n')
    expect(calls.filter(([op]) => op === 'tokenList')).toEqual([
      ['tokenList', { team: 'acme' }, 'cli:test'],
    ])

    await control.close()
    expect(() => statSync(path)).toThrow()
    expect(await connectControl(path, 'cli:test')).toBeNull()
  })
})
