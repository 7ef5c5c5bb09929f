import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createSettingsStore } from './domain'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cmdai-settings-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

describe('SettingsStore', () => {
  it('fills defaults when there is no file, with remote backends off', () => {
    const settings = createSettingsStore(dir).read()
    expect(settings.safety.level).toBe('moderate')
    expect(settings.appearance.theme).toBe('system')
    expect(settings.shortcuts.palette).toBe('Mod+K')
    expect(settings.privacy.allowRemoteBackends).toBe(false)
  })

  it('merges a patch into one section and keeps the others, including unknown llm keys', () => {
    const store = createSettingsStore(dir)
    store.update({ llm: { model: 'qwen2.5-coder-1.5b' } })
    const next = store.update({ safety: { level: 'strict' }, appearance: { fontSize: 15 } })
    expect(next.safety.level).toBe('strict')
    expect(next.appearance).toMatchObject({ fontSize: 15, theme: 'system' })
    expect(next.llm).toEqual({ model: 'qwen2.5-coder-1.5b' })
    const onDisk = JSON.parse(readFileSync(store.path, 'utf8'))
    expect(onDisk).toEqual({
      llm: { model: 'qwen2.5-coder-1.5b' },
      safety: { level: 'strict' },
      appearance: { fontSize: 15 },
    })
  })

  it('refuses invalid values and writes nothing', () => {
    const store = createSettingsStore(dir)
    store.update({ safety: { level: 'permissive' } })
    const before = readFileSync(store.path, 'utf8')
    expect(() => store.update({ llm: { gpu: 'quantum' } })).toThrow(/llm\.gpu/)
    expect(() => store.update({ appearance: { fontSize: 400 } })).toThrow(/fontSize/)
    expect(() => store.update({ shortcuts: { palette: 'rm -rf /' } })).toThrow(/shortcut/)
    expect(readFileSync(store.path, 'utf8')).toBe(before)
  })

  it('says clearly when the file is corrupt, and does not overwrite it', () => {
    const store = createSettingsStore(dir)
    writeFileSync(store.path, '{"safety": ')
    expect(() => store.read()).toThrow(/not valid JSON.*fix or delete it/)
    expect(() => store.update({ safety: { level: 'strict' } })).toThrow(/not valid JSON/)
    expect(readFileSync(store.path, 'utf8')).toBe('{"safety": ')
  })

  it('reports a failed write as unavailable and keeps the old file', () => {
    const store = createSettingsStore(dir)
    store.update({ safety: { level: 'strict' } })
    // The temp file's name taken by a directory makes the write fail, even for root.
    mkdirSync(`${store.path}.tmp-${process.pid}`)
    expect(() => store.update({ safety: { level: 'permissive' } })).toThrow(
      /Could not save settings/,
    )
    expect(store.read().safety.level).toBe('strict')
  })
})
