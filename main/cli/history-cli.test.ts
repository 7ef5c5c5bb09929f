import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveAppRoot } from '../config/paths'
import { waitFor } from '../testing/wait-for'

// `cmdai history` as users run it (child processes on one data dir: the database is created once).
let root: string
let dataDir: string
const env = () => ({ ...process.env, CMDAI_DATA_DIR: dataDir })

function cmdai(...args: string[]) {
  return spawnSync(process.execPath, ['bin/cmdai.mjs', ...args], {
    cwd: resolveAppRoot(),
    encoding: 'utf8',
    timeout: 120_000,
    env: env(),
  })
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'cmdai-history-cli-'))
  dataDir = join(root, 'data')
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

describe('cmdai history (CLI)', () => {
  it('imports with a line-numbered report; search and stats keep one command per line', () => {
    const file = join(root, 'mixed.zsh_history')
    writeFileSync(
      file,
      Buffer.concat([
        Buffer.from(': 1700000000:0;for f in *; do\\\n  echo "$f"\\\ndone\n'),
        Buffer.from(': 1700000001:0;printf "\\033[2J hidden"\n'),
        Buffer.from(': 1700000002:0;echo nul\0here\n'),
        Buffer.from(': 99999999999:0;echo later\n'),
      ]),
    )
    const imported = cmdai('history', 'import', file)
    expect(imported.status).toBe(0)
    // Not a terminal: no progress bar, only the summary.
    expect(imported.stderr).toBe('')
    expect(imported.stdout).toMatch(
      /^Imported 2 new zsh entries: 4 read, 0 already present, 2 skipped/,
    )
    expect(imported.stdout).toContain('line 5: the command contains a NUL byte')
    expect(imported.stdout).toMatch(/line 6: the timestamp .* is in the future/)

    // A literal ESC in the command: shown as \e, never sent to the terminal.
    writeFileSync(join(root, 'esc.zsh'), ': 1700000003:0;echo \x1b[31mred\n')
    expect(cmdai('history', 'import', join(root, 'esc.zsh')).status).toBe(0)

    const search = cmdai('history', 'search', '--mode', 'substring', 'e')
    expect(search.status).toBe(0)
    const lines = search.stdout.trimEnd().split('\n')
    expect(lines).toHaveLength(3)
    for (const line of lines) expect(line).toMatch(/^[ ✓✗] \d{4}-\d\d-\d\d \d\d:\d\d +\d+× {2}\S/)
    expect(search.stdout).toContain('for f in *; do\\n  echo "$f"\\ndone')
    expect(search.stdout).toContain('echo \\e[31mred')
    expect(search.stdout).not.toContain('\x1b')
    const stats = cmdai('history', 'stats')
    expect(stats.stdout).toContain('for f in *; do\\n  echo "$f"\\ndone')
    expect(stats.stdout).not.toContain('\x1b')
  }, 240_000)

  it('delete with an id that is not a number says so (exit 1)', () => {
    const r = cmdai('history', 'delete', 'abc')
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/Not a positive integer: abc/)
    const ok = cmdai('history', 'delete', '999999')
    expect(ok.stdout).toMatch(/Deleted 0 commands/)
  }, 120_000)

  it('backs up, and doctor names a damaged file, then restores the backup', () => {
    expect(cmdai('history', 'backup').stdout).toMatch(
      /^Backed up to .*backups\/history-\d+T\d+Z\.tar\.gz/,
    )
    expect(cmdai('history', 'backup', '--list').stdout).toMatch(/history-\d+T\d+Z\.tar\.gz/)
    expect(cmdai('history', 'doctor').stdout).toMatch(/Check: healthy\n {2}\d+ commands/)

    truncateSync(join(dataDir, 'history', 'global', 'pg_control'), 10)
    const search = cmdai('history', 'search', 'x')
    expect(search.status).toBe(1)
    expect(search.stderr).toMatch(/global\/pg_control is 10 bytes instead of 8192/)
    expect(search.stderr).toMatch(/cmdai history doctor/)

    const check = cmdai('history', 'doctor')
    expect(check.status).toBe(1)
    expect(check.stdout).toMatch(/Check: damaged\n {2}✗ .*global\/pg_control/)
    expect(check.stdout).toMatch(/cmdai history doctor --restore/)

    const fixed = cmdai('history', 'doctor', '--restore')
    expect(fixed.status).toBe(0)
    expect(fixed.stdout).toMatch(/Moved the old database to .*history\.damaged-/)
    expect(fixed.stdout).toMatch(/Now: healthy\n {2}3 commands/)
  }, 300_000)
})

describe('one owner per data directory', () => {
  let first: ChildProcess | null = null
  afterAll(() => {
    if (first?.exitCode === null) first.kill('SIGKILL')
  })

  it('a second `cmdai serve` on a busy data directory refuses, naming the first', async () => {
    const outDir = join(root, 'out')
    mkdirSync(join(outDir, 'renderer'), { recursive: true })
    writeFileSync(join(outDir, 'renderer', 'index.html'), '<!doctype html><title>cmdai</title>')
    const serveEnv = { ...env(), CMDAI_OUT_DIR: outDir, HOME: root, SHELL: '/bin/bash' }
    first = spawn(process.execPath, ['bin/cmdai.mjs', 'serve', '--port', '0'], {
      cwd: resolveAppRoot(),
      env: serveEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    first.stdout!.on('data', (c: Buffer) => (output += c.toString()))
    first.stderr!.on('data', (c: Buffer) => (output += c.toString()))
    await waitFor('the first serve', () => /running at/.test(output), 90_000)

    const second = spawnSync(process.execPath, ['bin/cmdai.mjs', 'serve', '--port', '0'], {
      cwd: resolveAppRoot(),
      env: serveEnv,
      encoding: 'utf8',
      timeout: 60_000,
    })
    expect(second.status).toBe(1)
    expect(second.stdout).not.toMatch(/running at/)
    expect(second.stderr).toContain(`is in use by cmdai serve (pid ${first.pid} `)
    // The CLI's own commands say the same while it runs (or go through it).
    const doctor = cmdai('history', 'doctor')
    expect(doctor.status).toBe(1)
    expect(doctor.stderr).toMatch(/in use by cmdai serve/)
    first.kill('SIGTERM')
    await waitFor('the first serve to stop', () => first!.exitCode !== null, 30_000)
  }, 240_000)
})
