import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { readPackageVersion } from '../config/paths'

const dataDir = mkdtempSync(join(tmpdir(), 'cmdai-cli-'))
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

function cmdai(...args: string[]) {
  return spawnSync(process.execPath, ['bin/cmdai.mjs', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, CMDAI_DATA_DIR: dataDir },
  })
}

describe('cmdai CLI entry', () => {
  it('prints its version', () => {
    const result = cmdai('--version')
    expect(result.status).toBe(0)
    expect(result.stdout.trim()).toBe(readPackageVersion())
  })

  it('prints help listing serve', () => {
    const result = cmdai('--help')
    expect(result.status).toBe(0)
    expect(result.stdout).toMatch(/Usage: cmdai/)
    expect(result.stdout).toMatch(/serve/)
    const serve = cmdai('serve', '--help')
    expect(serve.stdout).toMatch(/127\.0\.0\.1/)
  })

  it('rejects an unknown command with a non-zero status and a hint', () => {
    const result = cmdai('frobnicate')
    expect(result.status).not.toBe(0)
    expect(result.stderr).toMatch(/unknown command/i)
  })

  it('rejects an invalid port', () => {
    const result = cmdai('serve', '--port', '99999')
    expect(result.status).not.toBe(0)
    expect(result.stderr).toMatch(/Invalid port/)
  })

  it('searches imported history through the index and through Postgres itself (--sql)', () => {
    const file = join(dataDir, 'history.zsh')
    writeFileSync(file, ': 1700000000:0;git status\n: 1700000100:0;docker compose up -d\n')
    expect(cmdai('history', 'import', file).stdout).toMatch(/Imported 2 new zsh entries: 2 read/)
    for (const extra of [[], ['--sql']]) {
      const result = cmdai('history', 'search', '--json', ...extra, 'compose')
      expect(result.status).toBe(0)
      const hits = (JSON.parse(result.stdout) as { hits: Array<{ command: string }> }).hits
      expect(hits.map((h) => h.command)).toEqual(['docker compose up -d'])
    }
  }, 120_000)
})
