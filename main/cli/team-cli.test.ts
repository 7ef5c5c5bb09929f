import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ELEVATION_PATHS, type Elevation } from '../../contract/identity'
import { throughIdp } from '../../sync-server/oidc/testing/flows'
import { startSsoServer, type SsoServer } from '../../sync-server/oidc/testing/sso-server'
import { startTestIdp, type TestIdp } from '../../sync-server/oidc/testing/test-idp'
import { UserAgent } from '../../sync-server/oidc/testing/user-agent'
import { tempRoot } from '../../sync-server/testing/harness'
import { waitFor } from '../testing/wait-for'

/**
 * `cmdai team …` as a real process against the real team server and a real IdP: the device flow
 * (the code approved in "another browser"), status, an elevation approved while the CLI waits,
 * ending it, and logout revoking the session.
 */
const { root, cleanup } = tempRoot('cmdai-team-cli-')
let idp: TestIdp
let s: SsoServer
const env = () => ({ ...process.env, CMDAI_DATA_DIR: join(root, 'data'), NO_COLOR: '1' })

interface Run {
  out: string
  err: string
  code: Promise<number | null>
}

function cmdai(args: string[]): Run {
  const child = spawn(process.execPath, ['bin/cmdai.mjs', ...args], { env: env() })
  const run: Run = { out: '', err: '', code: Promise.resolve(null) }
  child.stdout.on('data', (d: Buffer) => (run.out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (run.err += d.toString()))
  run.code = new Promise((resolve) => child.on('exit', (code) => resolve(code)))
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000)
  void run.code.then(() => clearTimeout(timer))
  return run
}

beforeAll(async () => {
  idp = await startTestIdp()
  s = await startSsoServer(root, 'srv', idp)
  await s.map('platform', [
    { match: 'group', value: 'eng', role: 'engineer' },
    { match: 'group', value: 'juniors', role: 'junior' },
  ])
}, 120_000)

afterAll(async () => {
  await s?.close()
  await idp?.close()
  cleanup()
})

describe('cmdai team', () => {
  it('logs in with the device flow, shows status, elevates with approval, ends it, logs out', async () => {
    idp.setGroups('cli', ['juniors'])
    const login = cmdai(['team', 'login', '--server', s.base])
    const where = await waitFor('the code', () =>
      /open (\S+)\nand enter the code (\S+)/.exec(login.err),
    )
    // The user opens the address on another device and approves there.
    const ua = new UserAgent()
    const done = await throughIdp(ua, await ua.open(where![1]!), 'cli')
    expect(done.html).toContain('Sign-in Success')
    expect(await login.code).toBe(0)
    expect(login.out).toContain('Signed in to platform as cli@example.com (junior)')

    const status = cmdai(['team', 'status'])
    expect(await status.code).toBe(0)
    expect(status.out).toContain('platform: cli@example.com, junior')
    expect(status.out).toContain('[single sign-on]')

    const elevate = cmdai([
      'team',
      'elevate',
      '--role',
      'engineer',
      '--for',
      '1h',
      '--reason',
      'fix the runbook',
      '--wait',
      '1m',
      '--json',
    ])
    await waitFor('the request', () => elevate.err.includes('waiting for 1 approval'), 60_000)
    const admin = (
      await s.admin.tokenCreate({ team: 'platform', user: 'boss', role: 'admin', ttl: '1h' })
    ).token
    const list = await s.api(admin, 'GET', `${ELEVATION_PATHS.list}?status=pending`)
    const pending = (list.body.elevations as Elevation[]).find((e) => e.user === 'cli@example.com')!
    await s.api(admin, 'POST', `${ELEVATION_PATHS.list}/${pending.id}/decision`, {
      decision: 'approve',
    })
    expect(await elevate.code).toBe(0)
    expect((JSON.parse(elevate.out) as Elevation).status).toBe('active')

    const elevated = cmdai(['team', 'status'])
    await elevated.code
    expect(elevated.out).toMatch(/engineer \(elevated from junior, (59|60) min left/)

    const end = cmdai(['team', 'end-elevation'])
    expect(await end.code).toBe(0)
    expect(end.out).toContain('ended by cli@example.com')

    const out = cmdai(['team', 'logout'])
    expect(await out.code).toBe(0)
    const after = cmdai(['team', 'status'])
    expect(await after.code).toBe(1)
    expect(after.err).toContain('Not signed in')
  }, 180_000)

  it('says clearly what is wrong', async () => {
    const bad = cmdai(['team', 'elevate', '--role', 'admin', '--for', 'forever', '--reason', 'x'])
    expect(await bad.code).not.toBe(0)
    expect(bad.err).toContain('a duration from 1m to 24h')
    const noSso = cmdai(['team', 'login', '--server', 'http://127.0.0.1:9'])
    expect(await noSso.code).toBe(1)
    expect(noSso.err).toContain('cannot be reached')
  }, 60_000)
})
