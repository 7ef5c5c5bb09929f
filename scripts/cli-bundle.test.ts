import { mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
// @ts-expect-error: plain ESM script with JSDoc types, shared with bin/cmdai.mjs
import { BUNDLE_DIR, freshBundle, MANIFEST_NAME, sha1File } from './cli-bundle.mjs'

const root = mkdtempSync(join(tmpdir(), 'cmdai-bundle-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

function setup(name: string) {
  const dir = join(root, name)
  mkdirSync(join(dir, BUNDLE_DIR), { recursive: true })
  mkdirSync(join(dir, 'main'))
  const source = join(dir, 'main', 'a.ts')
  writeFileSync(source, 'export const a = 1\n')
  writeFileSync(join(dir, BUNDLE_DIR, 'cmdai-X.js'), '')
  const stat = statSync(source)
  const manifest = (over: Record<string, unknown> = {}) =>
    writeFileSync(
      join(dir, BUNDLE_DIR, MANIFEST_NAME),
      JSON.stringify({
        version: 1,
        entry: 'cmdai-X.js',
        builtAt: Date.now(),
        node: process.version,
        inputs: [['main/a.ts', stat.size, stat.mtimeMs, sha1File(source)]],
        ...over,
      }),
    )
  manifest()
  return { dir, source, manifest }
}

describe('the CLI bundle is used only when it matches its sources', () => {
  it('fresh, then still fresh after a touch with the same content', () => {
    const { dir, source } = setup('touch')
    expect(freshBundle(dir)).toEqual({
      entry: join(dir, BUNDLE_DIR, 'cmdai-X.js'),
      reason: 'fresh',
    })
    utimesSync(source, new Date(), new Date(Date.now() + 5_000))
    expect(freshBundle(dir).entry).not.toBeNull()
  })

  it('stale when a source changed, even keeping its size and mtime', () => {
    const { dir, source } = setup('changed')
    const before = statSync(source)
    writeFileSync(source, 'export const a = 2\n')
    expect(freshBundle(dir)).toEqual({ entry: null, reason: 'main/a.ts changed' })
    utimesSync(source, before.atime, before.mtime)
    // Same size, same mtime: trusted (what a rebuild records); a different size never is.
    writeFileSync(source, 'export const a = 22\n')
    expect(freshBundle(dir).entry).toBeNull()
  })

  it('stale when a source is gone, the manifest is missing or odd, or the entry is missing', () => {
    const gone = setup('gone')
    rmSync(gone.source)
    expect(freshBundle(gone.dir)).toEqual({ entry: null, reason: 'main/a.ts is gone' })
    const odd = setup('odd')
    for (const over of [{ version: 99 }, { entry: '../../evil.js' }, { inputs: 'x' }]) {
      odd.manifest(over)
      expect(freshBundle(odd.dir).entry).toBeNull()
    }
    writeFileSync(join(odd.dir, BUNDLE_DIR, MANIFEST_NAME), '{not json')
    expect(freshBundle(odd.dir).entry).toBeNull()
    rmSync(join(odd.dir, BUNDLE_DIR, MANIFEST_NAME))
    expect(freshBundle(odd.dir).reason).toMatch(/no bundle/)
    const missing = setup('missing')
    rmSync(join(missing.dir, BUNDLE_DIR, 'cmdai-X.js'))
    expect(freshBundle(missing.dir)).toEqual({ entry: null, reason: 'bundle entry missing' })
  })
})
