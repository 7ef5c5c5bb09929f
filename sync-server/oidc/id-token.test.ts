import { createPublicKey, createSecretKey } from 'node:crypto'
import { SignJWT, base64url, createRemoteJWKSet, importJWK, type JWK } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { IdTokenError, allowedAlgorithms, verifyIdToken, type IdTokenChecks } from './id-token'
import { startTestIdp, type TestIdp } from './testing/test-idp'

/**
 * ID token checks against the keys a real IdP (oidc-provider) publishes at its JWKS endpoint,
 * with tokens signed by its own signing key, then expired, tampered, re-signed with `none` or
 * with HMAC over its public key, for other issuers and audiences, and hostile shapes and sizes.
 */
let idp: TestIdp
let checks: IdTokenChecks
const now = Date.now()

beforeAll(async () => {
  idp = await startTestIdp()
  await idp.configure({ redirectUris: ['http://127.0.0.1:1/cb'] })
  const meta = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as {
    jwks_uri: string
    id_token_signing_alg_values_supported: string[]
  }
  checks = {
    issuer: idp.issuer,
    clientId: idp.clientId,
    keys: createRemoteJWKSet(new URL(meta.jwks_uri), { cooldownDuration: 0 }),
    algorithms: allowedAlgorithms(meta.id_token_signing_alg_values_supported),
    nonce: 'the-nonce',
    now,
    clockToleranceSeconds: 60,
  }
})

afterAll(async () => {
  await idp?.close()
})

const claims = (extra: Record<string, unknown> = {}) => ({
  iss: idp.issuer,
  aud: idp.clientId,
  sub: 'ana',
  nonce: 'the-nonce',
  iat: Math.floor(now / 1000) - 10,
  exp: Math.floor(now / 1000) + 300,
  ...extra,
})

async function sign(payload: Record<string, unknown>, key = idp.signingKey()): Promise<string> {
  const pk = await importJWK(key.privateJwk, 'RS256')
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: key.kid }).sign(pk)
}

async function refused(token: string, extra: Partial<IdTokenChecks> = {}): Promise<string> {
  const err = await verifyIdToken(token, { ...checks, ...extra }).then(
    () => null,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(IdTokenError)
  return (err as Error).message
}

describe('verifyIdToken', () => {
  it('accepts a token signed by the IdP for us, with our nonce', async () => {
    const c = await verifyIdToken(await sign(claims()), checks)
    expect(c.sub).toBe('ana')
  })

  it('refuses expired tokens beyond the clock tolerance, and accepts within it', async () => {
    const t = Math.floor(now / 1000)
    expect(await refused(await sign(claims({ exp: t - 61, iat: t - 400 })))).toContain('expired')
    await expect(verifyIdToken(await sign(claims({ exp: t - 30 })), checks)).resolves.toBeTruthy()
    // The same token, the server's clock moved on.
    expect(await refused(await sign(claims()), { now: now + 3600_000 })).toContain('expired')
    expect(await refused(await sign(claims({ nbf: t + 600 })))).toContain('not valid yet')
    expect(await refused(await sign(claims({ iat: t + 600, exp: t + 900 })))).toContain('future')
  })

  it('refuses tampered tokens', async () => {
    const good = await sign(claims())
    const [h, p, sig] = good.split('.') as [string, string, string]
    const body = JSON.parse(new TextDecoder().decode(base64url.decode(p))) as Record<
      string,
      unknown
    >
    const forged = base64url.encode(JSON.stringify({ ...body, sub: 'admin' }))
    expect(await refused(`${h}.${forged}.${sig}`)).toContain('signature')
    const flipped = sig.slice(0, 10) + (sig[10] === 'A' ? 'B' : 'A') + sig.slice(11)
    expect(await refused(`${h}.${p}.${flipped}`)).toContain('signature')
    const header = base64url.encode(JSON.stringify({ alg: 'RS256', kid: 'someone-else' }))
    expect(await refused(`${header}.${p}.${sig}`)).toMatch(/unknown key|signature/)
  })

  it('refuses alg none and HS256 made with the IdP’s public key', async () => {
    const p = base64url.encode(JSON.stringify(claims()))
    const none = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }))
    expect(await refused(`${none}.${p}.`)).toContain('not a signed JWT')
    expect(await refused(`${none}.${p}.c2ln`)).toContain('not allowed')
    // The classic confusion: HMAC keyed with the RSA public key's PEM.
    const pem = createPublicKey({
      key: idp.signingKey().privateJwk as JWK & { kty: 'RSA' },
      format: 'jwk',
    })
      .export({ type: 'spki', format: 'pem' })
      .toString()
    const hs = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'HS256', kid: idp.signingKey().kid })
      .sign(createSecretKey(Buffer.from(pem)))
    expect(await refused(hs)).toContain('not allowed')
    // Even when a caller lists HS256, jose will not use an RSA key for it.
    expect(await refused(hs, { algorithms: ['HS256', 'RS256'] })).toBeTruthy()
  })

  it('refuses other issuers, audiences, authorized parties, subjects and nonces', async () => {
    expect(await refused(await sign(claims({ iss: 'https://evil.example' })))).toContain('issuer')
    expect(await refused(await sign(claims({ aud: 'another-client' })))).toContain('audience')
    expect(await refused(await sign(claims({ aud: [idp.clientId, 'other'] })))).toContain(
      'several audiences',
    )
    expect(await refused(await sign(claims({ azp: 'other' })))).toContain('azp')
    expect(await refused(await sign(claims({ nonce: 'replayed-from-another-sign-in' })))).toContain(
      'nonce',
    )
    expect(await refused(await sign(claims({ nonce: undefined })))).toContain('nonce')
    expect(await refused(await sign(claims()), { subject: 'bea' })).toContain('another subject')
    expect(await refused(await sign(claims({ sub: 'x'.repeat(300) })))).toContain('subject')
  })

  it('refuses malformed and huge tokens quickly', async () => {
    const started = performance.now()
    for (const bad of [
      '',
      'not-a-jwt',
      'a.b',
      'a.b.c.d',
      '....',
      `${'A'.repeat(2_000_000)}.x.y`,
      'eyJ.eyJ.sig',
      `${base64url.encode('{"alg":"RS256"')}.${base64url.encode('{}')}.c2ln`,
      `${base64url.encode('[]')}.${base64url.encode('{}')}.c2ln`,
      `${base64url.encode(JSON.stringify({ alg: 'RS256' }))}.${base64url.encode('\u0000\u001b[31m')}.c2ln`,
      'a\u0000.b.c',
    ])
      await refused(bad)
    // Signed for real, but a deeply nested payload within the size limit.
    const deep = await sign({
      ...claims(),
      x: JSON.parse('['.repeat(2_000) + ']'.repeat(2_000)) as unknown,
    })
    if (deep.length <= 16_384) await verifyIdToken(deep, checks)
    expect(performance.now() - started).toBeLessThan(2_000)
  })

  it('after the IdP drops a key, tokens it signed are refused once the cached keys are renewed', async () => {
    const old = idp.signingKey()
    const before = await sign(claims(), old)
    await verifyIdToken(before, checks)
    await idp.rotateKeys({ dropOld: true })
    // A token with the new key's kid makes the key set refetch at once...
    await verifyIdToken(await sign(claims()), checks)
    // ...and the refetched set no longer holds the old key.
    expect(await refused(before)).toContain('unknown key')
  })
})
