import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { IDENTITY_PATHS } from '../../contract/identity'
import { freshDataDir, tempRoot } from '../testing/harness'
import { runCli, spawnServer } from '../testing/process'
import { loadSsoSettings } from './config'
import { startTestIdp, type TestIdp } from './testing/test-idp'

/**
 * `cmdai-sync start --oidc-issuer URL --oidc-client-id ID [--oidc-client-secret-file F]` and the
 * config file: what is accepted, what is refused and why, and a real server process started with
 * single sign-on against a real IdP.
 */
const { root, cleanup } = tempRoot('cmdai-sso-cfg-')
let idp: TestIdp

beforeAll(async () => {
  idp = await startTestIdp()
  await idp.configure({ redirectUris: ['http://127.0.0.1:1/auth/sso/callback'] })
})

afterAll(async () => {
  await idp?.close()
  cleanup()
})

const file = (name: string, text: string) => {
  const p = join(root, name)
  writeFileSync(p, text, { mode: 0o600 })
  return p
}

describe('loadSsoSettings', () => {
  it('is off without an issuer, and needs both the issuer and the client id', () => {
    expect(loadSsoSettings({})).toBeNull()
    expect(() => loadSsoSettings({ oidcIssuer: 'https://idp.example.com' })).toThrow(/both/)
    expect(() => loadSsoSettings({ oidcClientId: 'x' })).toThrow(/both/)
  })

  it('takes flags, a secret file, and the config file (flags winning)', () => {
    const secret = file('secret', 's3cr3t-value\n')
    const cfg = file(
      'sso.yaml',
      [
        'issuer: https://login.example.com/realms/eng/',
        'clientId: from-file',
        'clientSecretFile: secret',
        'groupsClaim: roles',
        'userClaim: preferred_username',
        'scopes: [openid, email, offline_access]',
        'extraAuthParams: { prompt: consent }',
        'accessTokenMinutes: 5',
      ].join('\n'),
    )
    expect(loadSsoSettings({ oidcConfig: cfg, oidcClientId: 'from-flag' })).toEqual({
      issuer: 'https://login.example.com/realms/eng',
      clientId: 'from-flag',
      clientSecret: 's3cr3t-value',
      scopes: ['openid', 'email', 'offline_access'],
      groupsClaim: 'roles',
      userClaim: 'preferred_username',
      extraAuthParams: { prompt: 'consent' },
      accessTokenSeconds: 300,
    })
    expect(
      loadSsoSettings({
        oidcIssuer: 'https://idp.example.com',
        oidcClientId: 'c',
        oidcClientSecretFile: secret,
      })?.clientSecret,
    ).toBe('s3cr3t-value')
  })

  it('refuses what it must, saying why', () => {
    const cases: Array<[Parameters<typeof loadSsoSettings>[0], RegExp]> = [
      [{ oidcIssuer: 'http://idp.example.com', oidcClientId: 'c' }, /https/],
      [{ oidcIssuer: 'not a url', oidcClientId: 'c' }, /not a URL/],
      [{ oidcConfig: file('bad.yaml', 'issuer: [unclosed') }, /not valid YAML/],
      [{ oidcConfig: file('extra.yaml', 'issuer: https://a.example\nfoo: 1') }, /Unrecognized/i],
      [
        {
          oidcConfig: file(
            'reserved.yaml',
            'issuer: https://a.example\nclientId: c\nextraAuthParams: { state: x }',
          ),
        },
        /server sets itself/,
      ],
      [{ oidcConfig: file('huge.json', `{"issuer": "${'a'.repeat(70_000)}"}`) }, /over/],
      [
        {
          oidcIssuer: 'https://a.example',
          oidcClientId: 'c',
          oidcClientSecretFile: file('two', 'a b'),
        },
        /one line/,
      ],
      [
        {
          oidcIssuer: 'https://a.example',
          oidcClientId: 'c',
          oidcClientSecretFile: join(root, 'missing'),
        },
        /ENOENT/,
      ],
      [
        { oidcIssuer: 'https://a.example', oidcClientId: 'c', oidcClientSecretFile: root },
        /not a regular file/,
      ],
    ]
    symlinkSync(file('target', 'secret'), join(root, 'link'))
    cases.push([
      {
        oidcIssuer: 'https://a.example',
        oidcClientId: 'c',
        oidcClientSecretFile: join(root, 'link'),
      },
      /ELOOP|link/,
    ])
    for (const [flags, why] of cases)
      expect(() => loadSsoSettings(flags), JSON.stringify(flags).slice(0, 80)).toThrow(why)
  })
})

describe('cmdai-sync start with single sign-on', () => {
  it('starts with the IdP and says which redirect URI to register', async () => {
    const dir = await freshDataDir(root, 'proc')
    const secret = file('proc-secret', idp.clientSecret)
    const p = await spawnServer([
      '--data',
      dir,
      '--oidc-issuer',
      idp.issuer,
      '--oidc-client-id',
      idp.clientId,
      '--oidc-client-secret-file',
      secret,
    ])
    try {
      const cfg = await (await fetch(`http://127.0.0.1:${p.port}${IDENTITY_PATHS.config}`)).json()
      expect(cfg).toMatchObject({ enabled: true, issuer: idp.issuer, deviceFlow: true })
      const hint = p.logs.find((l) => typeof l.redirectUri === 'string')
      expect(hint?.redirectUri).toBe(`http://127.0.0.1:${p.port}/auth/sso/callback`)
      // The console's sign-in goes to the IdP.
      const r = await fetch(`http://127.0.0.1:${p.port}${IDENTITY_PATHS.console}`, {
        redirect: 'manual',
      })
      expect(r.status).toBe(302)
      expect(r.headers.get('location')).toContain(`${idp.issuer}/auth?`)
    } finally {
      p.child.kill('SIGTERM')
      await p.exited
    }
  }, 90_000)

  it('refuses to start with a half configuration', async () => {
    mkdirSync(join(root, 'half'), { recursive: true })
    const r = await runCli([
      'start',
      '--port',
      '0',
      '--data',
      join(root, 'half'),
      '--oidc-issuer',
      'https://a.example',
    ])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--oidc-client-id')
  })
})
