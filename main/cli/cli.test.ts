import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { readPackageVersion } from '../config/paths'

function cmdai(...args: string[]) {
  return spawnSync(process.execPath, ['bin/cmdai.mjs', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
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
})
