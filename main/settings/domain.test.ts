import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { SettingsPatch } from '../../contract'
import { EventHub } from '../ipc/event-hub'
import { Router } from '../ipc/router'
import { createSettingsDomain } from './domain'

let dir: string
let home: string
let router: Router

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cmdai-settings-domain-'))
  home = join(dir, 'home')
  mkdirSync(join(home, 'code'), { recursive: true })
  router = new Router()
  createSettingsDomain({
    router,
    events: new EventHub(),
    dataDir: join(dir, 'data'),
    env: { HOME: home, PATH: '/usr/bin:/bin' },
    host: 'cli',
  })
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

const ctx = { clientId: 'test' }
const update = (patch: SettingsPatch) => router.dispatch('settings:update', patch, ctx)
const onDisk = () => JSON.parse(readFileSync(join(dir, 'data', 'settings.json'), 'utf8'))

async function refused(patch: SettingsPatch): Promise<string> {
  const before = (await router.dispatch('settings:get', {}, ctx)) as { ok: true; value: unknown }
  const result = await update(patch)
  if (result.ok) throw new Error(`expected ${JSON.stringify(patch)} to be refused`)
  expect(result.error.code).toBe('invalid_input')
  expect(result.error.message).not.toMatch(/Invalid arguments|settings:update/)
  const after = (await router.dispatch('settings:get', {}, ctx)) as { ok: true; value: unknown }
  expect(after.value).toEqual(before.value)
  return result.error.message
}

describe('settings:update', () => {
  it('merges one field into what is stored and resets nothing else in its section', async () => {
    await update({ appearance: { theme: 'dark' } })
    await update({ appearance: { fontSize: 16 } })
    await update({ terminal: { shell: 'bash' } })
    await update({ terminal: { scrollback: 500 } })
    await update({ shortcuts: { palette: 'Mod+P' } })
    await update({ shortcuts: { history: 'Alt+H' } })
    await update({ privacy: { remoteContext: { recentCommands: true } } })
    await update({ privacy: { remoteContext: { cwd: false } } })
    expect(onDisk()).toEqual({
      appearance: { theme: 'dark', fontSize: 16 },
      terminal: { shell: 'bash', scrollback: 500 },
      shortcuts: { palette: 'Mod+P', history: 'Alt+H' },
      privacy: { remoteContext: { recentCommands: true, cwd: false } },
    })
    expect(statSync(join(dir, 'data', 'settings.json')).mode & 0o777).toBe(0o600)
    expect(statSync(join(dir, 'data')).mode & 0o777).toBe(0o700)
  })

  it('refuses a shell or start directory that does not exist, in words', async () => {
    expect(await refused({ terminal: { shell: '/bin/nosuchshell' } })).toBe(
      'There is no shell at /bin/nosuchshell',
    )
    expect(await refused({ terminal: { shell: 'nosuchshell' } })).toMatch(
      /no program named “nosuchshell”/,
    )
    expect(await refused({ terminal: { shell: '/etc' } })).toMatch(/folder, not a shell/)
    const script = join(dir, 'not-executable')
    writeFileSync(script, 'echo')
    chmodSync(script, 0o644)
    if (process.getuid?.() !== 0)
      expect(await refused({ terminal: { shell: script } })).toMatch(/not an executable/)
    expect(await refused({ terminal: { shell: 'bin/bash' } })).toMatch(/absolute path/)
    expect(await refused({ terminal: { shell: '/bin/ba\u0000sh' } })).toMatch(/control/)
    expect(await refused({ terminal: { startDirectory: '/no/such/dir' } })).toBe(
      'There is no folder /no/such/dir',
    )
    expect(await refused({ terminal: { startDirectory: script } })).toMatch(/is a file/)
    expect(await refused({ terminal: { startDirectory: 'code' } })).toMatch(/absolute path/)
  })

  it('accepts a shell by name or path and expands ~ in the start directory', async () => {
    expect((await update({ terminal: { shell: 'bash' } })).ok).toBe(true)
    expect((await update({ terminal: { shell: '/bin/sh' } })).ok).toBe(true)
    expect((await update({ terminal: { startDirectory: '~/code' } })).ok).toBe(true)
    expect(onDisk().terminal).toEqual({ shell: '/bin/sh', startDirectory: join(home, 'code') })
    // Empty means the login shell and the home directory.
    expect((await update({ terminal: { shell: '', startDirectory: '' } })).ok).toBe(true)
  })

  it('refuses shortcuts that take a key the terminal needs or that another action has', async () => {
    expect(await refused({ shortcuts: { palette: 'Ctrl+C' } })).toMatch(
      /Ctrl\+C interrupts the running program/,
    )
    expect(await refused({ shortcuts: { palette: 'Mod+D' } })).toMatch(/Ctrl\+D ends input/)
    expect(await refused({ shortcuts: { newTab: 'Ctrl+Shift+V' } })).toMatch(/pastes/)
    expect(await refused({ shortcuts: { palette: 'K' } })).toMatch(/alone would take the key/)
    expect(await refused({ shortcuts: { palette: 'Shift+Enter' } })).toMatch(/alone/)
    expect(await refused({ shortcuts: { palette: 'Ctrl+R' } })).toBe(
      'Ctrl+R is already the shortcut for “Search history”',
    )
    // Mod is Ctrl off macOS: Mod+R is Ctrl+R there.
    expect(await refused({ shortcuts: { explain: 'Mod+r' } })).toMatch(/Search history/)
    expect(await refused({ shortcuts: { palette: 'Ctrl+,' } })).toBe(
      'Ctrl+, is already the shortcut for “Open Settings”',
    )
    expect((await update({ shortcuts: { palette: 'F2' } })).ok).toBe(true)
    expect((await update({ shortcuts: { palette: 'Alt+Space' } })).ok).toBe(true)
    // Swapping two shortcuts in one patch is fine.
    expect((await update({ shortcuts: { history: 'Mod+K', palette: 'Ctrl+R' } })).ok).toBe(true)
  })

  it('words values the schema refuses the way the form shows them', async () => {
    // The router names the channel; the sentence after it is the one the form shows.
    for (const [patch, words] of [
      [{ appearance: { fontSize: 400 } }, /Font size is a whole number of pixels from 8 to 32/],
      [{ terminal: { scrollback: 1.5 } }, /Scrollback is a whole number of lines/],
      [{ shortcuts: { palette: 'ctrl+r' } }, /Write a shortcut like Mod\+K/],
    ] as const) {
      const result = await update(patch)
      expect(!result.ok && result.error.message).toMatch(words)
    }
  })

  it('refuses a non-object llm section in settings.json with a sentence, not zod keys', async () => {
    mkdirSync(join(dir, 'data'), { recursive: true })
    writeFileSync(join(dir, 'data', 'settings.json'), '{"llm":"notanobject"}')
    const result = await router.dispatch('settings:get', {}, ctx)
    expect(result.ok).toBe(false)
    const message = !result.ok ? result.error.message : ''
    expect(message).toMatch(/llm: must be a JSON object/)
    expect(message).not.toMatch(/"0"|"10"/)
  })
})
