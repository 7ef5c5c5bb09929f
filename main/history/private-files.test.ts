import { spawnSync } from 'node:child_process'
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ensurePrivateDir, tightenTree, writePrivateFile } from '../config/private-fs'

const root = mkdtempSync(join(tmpdir(), 'cmdai-history-private-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** Every path under `dir` with its mode, e.g. `history/pg_wal/0000…: 644`. */
function modes(dir: string): Map<string, number> {
  const out = new Map<string, number>()
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      const st = lstatSync(p)
      out.set(p.slice(dir.length + 1), st.mode & 0o777)
      if (st.isDirectory()) walk(p)
    }
  }
  walk(dir)
  return out
}

function runWriter(dataDir: string) {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'test-fixtures', 'umask-writer.ts'), dataDir],
    { encoding: 'utf8', timeout: 170_000 },
  )
  expect(r.stderr).toBe('')
  expect(r.stdout).toBe('done\n')
}

function expectPrivate(dataDir: string) {
  expect(lstatSync(dataDir).mode & 0o777).toBe(0o700)
  const all = modes(dataDir)
  expect(all.size).toBeGreaterThan(500)
  const loose = [...all].filter(([p, m]) => {
    const dir = lstatSync(join(dataDir, p)).isDirectory()
    return dir ? m !== 0o700 : m !== 0o600
  })
  expect(loose).toEqual([])
  // The WAL (command text in clear) and the backups are among them.
  expect([...all.keys()].some((p) => p.startsWith('history/pg_wal/0'))).toBe(true)
  expect([...all.keys()].some((p) => p.startsWith('backups/history-'))).toBe(true)
}

describe('private by default, whatever the umask', () => {
  it('a new data directory under umask 022: 0700 folders, 0600 files, WAL and backups included', () => {
    const dataDir = join(root, 'new')
    runWriter(dataDir)
    expectPrivate(dataDir)
  }, 180_000)

  it('an existing install with world-readable files is tightened on open', () => {
    const dataDir = join(root, 'new')
    for (const [p] of modes(dataDir)) {
      const path = join(dataDir, p)
      chmodSync(path, lstatSync(path).isDirectory() ? 0o777 : 0o666)
    }
    chmodSync(dataDir, 0o755)
    runWriter(dataDir)
    expectPrivate(dataDir)
  }, 180_000)

  it('tightenTree: group and others lose everything, the owner keeps x, links are not followed', () => {
    const dir = join(root, 'tree')
    mkdirSync(join(dir, 'sub'), { recursive: true })
    writeFileSync(join(dir, 'sub', 'script.sh'), '#!/bin/sh\n')
    chmodSync(join(dir, 'sub', 'script.sh'), 0o755)
    const outside = join(root, 'outside.txt')
    writeFileSync(outside, 'not ours')
    chmodSync(outside, 0o644)
    symlinkSync(outside, join(dir, 'link'))
    tightenTree(dir)
    expect(lstatSync(join(dir, 'sub')).mode & 0o777).toBe(0o700)
    expect(lstatSync(join(dir, 'sub', 'script.sh')).mode & 0o777).toBe(0o700)
    expect(lstatSync(outside).mode & 0o777).toBe(0o644)
  })

  it('ensurePrivateDir and writePrivateFile make owner-only paths, atomically', () => {
    const dir = join(root, 'a', 'b', 'c')
    ensurePrivateDir(dir)
    for (const d of [join(root, 'a'), join(root, 'a', 'b'), dir]) {
      expect(lstatSync(d).mode & 0o777).toBe(0o700)
    }
    writePrivateFile(join(dir, 'f.json'), '{}')
    expect(lstatSync(join(dir, 'f.json')).mode & 0o777).toBe(0o600)
    expect(readdirSync(dir)).toEqual(['f.json'])
  })
})
