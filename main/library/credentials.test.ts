import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { CredentialStore, peekToken, type SecretCipher } from './credentials'

const root = mkdtempSync(join(tmpdir(), 'cmdai-creds-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const xor: SecretCipher = {
  available: () => true,
  encrypt: (s) => Buffer.from([...Buffer.from(s)].map((b) => b ^ 0x5a)),
  decrypt: (b) => Buffer.from([...b].map((x) => x ^ 0x5a)).toString(),
}

describe('team tokens on disk', () => {
  it('keeps tokens in a 0600 file whatever the umask, never in settings', () => {
    const dir = join(root, 'plain')
    mkdirSync(dir)
    const old = process.umask(0o000)
    try {
      new CredentialStore(dir).set('https://t.example', 'acme', 'tok-123')
    } finally {
      process.umask(old)
    }
    expect(statSync(join(dir, 'credentials.json')).mode & 0o777).toBe(0o600)
    expect(new CredentialStore(dir).get('https://t.example', 'acme')).toBe('tok-123')
    expect(existsSync(join(dir, 'settings.json'))).toBe(false)
  })

  it('encrypts with the keychain cipher when there is one, and says so when it cannot be opened', () => {
    const dir = join(root, 'enc')
    mkdirSync(dir)
    new CredentialStore(dir, xor).set('https://t.example', 'acme', 'secret-token')
    expect(readFileSync(join(dir, 'credentials.bin')).toString()).not.toContain('secret-token')
    expect(new CredentialStore(dir, xor).get('https://t.example', 'acme')).toBe('secret-token')
    expect(() => new CredentialStore(dir).list()).toThrow(/keychain/)
  })

  it('refuses a file others can read, a symbolic link, or a damaged file, and leaves it as it is', () => {
    const dir = join(root, 'bad')
    mkdirSync(dir)
    const file = join(dir, 'credentials.json')
    writeFileSync(file, '[]')
    chmodSync(file, 0o644)
    expect(() => new CredentialStore(dir).list()).toThrow(/0600/)
    rmSync(file)
    symlinkSync('/etc/passwd', file)
    expect(() => new CredentialStore(dir).list()).toThrow(/Refusing/)
    rmSync(file)
    writeFileSync(file, '{not json', { mode: 0o600 })
    expect(() => new CredentialStore(dir).set('s', 't', 'x')).toThrow(/damaged/)
    expect(readFileSync(file, 'utf8')).toBe('{not json')
  })

  it('reads a token’s claims without trusting them', () => {
    const payload = Buffer.from(
      JSON.stringify({ sub: 'ann', team: 'acme', role: 'junior', exp: 1 }),
    ).toString('base64url')
    expect(peekToken(`h.${payload}.s`)).toEqual({
      user: 'ann',
      team: 'acme',
      role: 'junior',
      exp: 1,
    })
    expect(peekToken('garbage')).toBeNull()
    expect(peekToken('a.!!!.c')).toBeNull()
  })
})
