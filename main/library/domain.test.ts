import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Channel, RequestArgs, RequestResult } from '../../contract'
import { CmdaiError } from '../../contract/errors'
import type { Domain } from '../domain'
import { EventHub } from '../ipc/event-hub'
import { Router } from '../ipc/router'
import { createLibraryDomain } from './domain'

/**
 * The library requests as the renderer sends them, through the router and its validation: the
 * parameter form's check, a run (the terminal's `pty:write` is recorded here; the real terminal
 * path is covered by quote-pty and the e2e journey), the approved-once values command, and
 * hostile input.
 */
const root = mkdtempSync(join(tmpdir(), 'cmdai-library-domain-'))
const router = new Router()
const writes: string[] = []
let domain: Domain

async function call<C extends Channel>(
  channel: C,
  args: RequestArgs<C>,
): Promise<RequestResult<C>> {
  const r = await router.dispatch(channel, args, { clientId: 'test' })
  if (!r.ok) throw new CmdaiError(r.error.code, r.error.message)
  return r.value as RequestResult<C>
}

beforeAll(() => {
  router.handle('pty:write', ({ data }) => {
    writes.push(data)
    return null
  })
  writeFileSync(
    join(root, 'policy.json'),
    JSON.stringify({
      version: 1,
      rules: [{ id: 'no-shutdown', effect: 'block', match: { command: 'shutdown' } }],
    }),
  )
  domain = createLibraryDomain({
    router,
    events: new EventHub(),
    dataDir: root,
    env: process.env,
    host: 'browser',
  })
})
afterAll(async () => {
  await domain.dispose()
  rmSync(root, { recursive: true, force: true })
})

describe('library requests', () => {
  it('checks, fills and runs a pattern with hostile values quoted', async () => {
    const p = await call('library:save', {
      library: 'personal',
      pattern: {
        title: 'Grep',
        command: 'grep -rn -- {{word}} {{dir}}',
        parameters: [{ name: 'dir', description: '', default: '.' }],
      },
    })
    const check = await call('library:check', {
      library: 'personal',
      id: p.id,
      values: { word: "$(reboot)'" },
    })
    expect(check.command).toBe(`grep -rn -- '$(reboot)'\\''' .`)
    expect(check.template.risk).toBeDefined()
    expect(check.decision?.action).toBe('allow')
    const run = await call('library:run', {
      library: 'personal',
      id: p.id,
      values: { word: 'x; rm -rf ~' },
      ptyId: 'pty-1',
    })
    expect(run.outcome).toBe('ran')
    expect(writes.at(-1)).toBe("\u0015grep -rn -- 'x; rm -rf ~' .\r")
    // NUL and a missing value are refused with the parameter named; nothing is written.
    const before = writes.length
    await expect(
      call('library:run', {
        library: 'personal',
        id: p.id,
        values: { word: 'a\u0000b' },
        ptyId: 'pty-1',
      }),
    ).rejects.toThrow(/\{\{word\}\} contains a NUL/)
    await expect(
      call('library:run', { library: 'personal', id: p.id, values: {}, ptyId: 'pty-1' }),
    ).rejects.toThrow(/\{\{word\}\} needs a value/)
    expect(writes.length).toBe(before)
  }, 60_000)

  it('blocks by the user’s policy and asks to confirm high risk before writing anything', async () => {
    const off = await call('library:save', {
      library: 'personal',
      pattern: { title: 'Off', command: 'shutdown -h now' },
    })
    const r = await call('library:run', { library: 'personal', id: off.id, ptyId: 'pty-1' })
    expect(r).toMatchObject({
      outcome: 'blocked',
      decision: { action: 'block', ruleId: 'no-shutdown' },
    })
    const wipe = await call('library:save', {
      library: 'personal',
      pattern: { title: 'Wipe', command: 'rm -rf -- {{d}}' },
    })
    const before = writes.length
    const first = await call('library:run', {
      library: 'personal',
      id: wipe.id,
      values: { d: './build' },
      ptyId: 'pty-1',
    })
    expect(first.outcome).toBe('needs-confirmation')
    expect(writes.length).toBe(before)
    const second = await call('library:run', {
      library: 'personal',
      id: wipe.id,
      values: { d: './build' },
      ptyId: 'pty-1',
      confirmed: true,
    })
    expect(second.outcome).toBe('ran')
  })

  it('runs a values command only once the user approved it', async () => {
    const p = await call('library:save', {
      library: 'personal',
      pattern: {
        title: 'Pick',
        command: 'echo {{c}}',
        parameters: [
          { name: 'c', description: '', valuesFrom: { command: 'printf "one\\ntwo\\none\\n"' } },
        ],
      },
    })
    const asked = await call('library:values', { library: 'personal', id: p.id, parameter: 'c' })
    expect(asked).toEqual({ approved: false, command: 'printf "one\\ntwo\\none\\n"', values: [] })
    const ran = await call('library:values', {
      library: 'personal',
      id: p.id,
      parameter: 'c',
      approve: true,
    })
    expect(ran.values).toEqual(['one', 'two'])
    // Remembered.
    expect(
      (await call('library:values', { library: 'personal', id: p.id, parameter: 'c' })).values,
    ).toEqual(['one', 'two'])
  })

  it('refuses malformed requests at the boundary', async () => {
    await expect(
      call('library:save', { library: '../etc', pattern: { title: 'x', command: 'x' } }),
    ).rejects.toThrow(/library id/)
    await expect(
      call('library:save', {
        library: 'personal',
        pattern: { title: 'x', command: 'x', extra: 1 } as never,
      }),
    ).rejects.toThrow(/Invalid/)
    await expect(
      call('library:open', { id: 'personal', stateVector: '!!!notbase64' }),
    ).rejects.toThrow()
    await expect(
      call('library:save', { library: 'starter', pattern: { title: 'x', command: 'x' } }),
    ).rejects.toThrow(/read-only/)
    const big = await call('library:search', { query: 'x'.repeat(1000), limit: 5 })
    expect(big.hits).toEqual([])
  })
})
