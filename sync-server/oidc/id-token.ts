import { decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose'

/**
 * Checks an ID token from the IdP before anything in it is believed: its size and shape, an
 * asymmetric algorithm the IdP announces (never `none`, never an HMAC: a token "signed" with the
 * IdP's public key as an HMAC secret is refused before any key is looked at), the signature
 * against the IdP's JWKS (jose's remote key set: cached, refetched for a key id it has not seen,
 * so the IdP can rotate keys), the issuer exactly, our client id in the audience (and as `azp`
 * when there are several audiences), expiry, not-before and issue time with a bounded clock skew,
 * and the nonce of the flow that asked for it.
 */
export const MAX_ID_TOKEN_LENGTH = 16_384

/** Algorithms an ID token may be signed with: public-key signatures only. */
export const ASYMMETRIC_ALGS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const

export class IdTokenError extends Error {
  override name = 'IdTokenError'
}

export interface IdTokenChecks {
  issuer: string
  clientId: string
  /** The key set (jose `createRemoteJWKSet`). */
  keys: JWTVerifyGetKey
  /** What the IdP announces (`id_token_signing_alg_values_supported`), filtered to asymmetric. */
  algorithms: readonly string[]
  /** The nonce sent with the authorization request; undefined for refresh and device grants. */
  nonce?: string
  now: number
  clockToleranceSeconds: number
  /** Refreshes: the subject must stay the same. */
  subject?: string
}

export interface IdTokenClaims {
  iss: string
  sub: string
  aud: string | string[]
  exp: number
  iat: number
  nonce?: string
  [claim: string]: unknown
}

/** The asymmetric algorithms among those the IdP announces (RS256 when it announces none). */
export function allowedAlgorithms(announced: unknown): string[] {
  const list = Array.isArray(announced) ? announced.filter((a) => typeof a === 'string') : []
  const asym = new Set<string>(ASYMMETRIC_ALGS)
  const allowed = (list.length ? list : ['RS256']).filter((a) => asym.has(a))
  return allowed.length ? allowed : ['RS256']
}

export async function verifyIdToken(token: string, checks: IdTokenChecks): Promise<IdTokenClaims> {
  if (typeof token !== 'string' || token.length === 0) throw new IdTokenError('no ID token')
  if (token.length > MAX_ID_TOKEN_LENGTH)
    throw new IdTokenError(`ID token over ${MAX_ID_TOKEN_LENGTH} bytes`)
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token))
    throw new IdTokenError('ID token is not a signed JWT')
  let alg: unknown
  try {
    alg = decodeProtectedHeader(token).alg
  } catch {
    throw new IdTokenError('ID token header does not decode')
  }
  if (typeof alg !== 'string' || !checks.algorithms.includes(alg))
    throw new IdTokenError(`ID token algorithm ${String(alg).slice(0, 20)} is not allowed`)
  let payload: Record<string, unknown>
  try {
    payload = (
      await jwtVerify(token, checks.keys, {
        issuer: checks.issuer,
        audience: checks.clientId,
        algorithms: [...checks.algorithms],
        clockTolerance: checks.clockToleranceSeconds,
        currentDate: new Date(checks.now),
        requiredClaims: ['sub', 'iat', 'exp'],
      })
    ).payload
  } catch (err) {
    throw new IdTokenError(describe(err))
  }
  const sub = payload.sub
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 255)
    throw new IdTokenError('ID token subject is missing or too long')
  if (checks.subject !== undefined && sub !== checks.subject)
    throw new IdTokenError('ID token is for another subject')
  const iat = payload.iat as number
  if (iat * 1000 > checks.now + checks.clockToleranceSeconds * 1000)
    throw new IdTokenError('ID token issued in the future')
  const aud = payload.aud
  if (Array.isArray(aud) && aud.length > 1 && payload.azp !== checks.clientId)
    throw new IdTokenError('ID token has several audiences and another authorized party')
  if (payload.azp !== undefined && payload.azp !== checks.clientId)
    throw new IdTokenError('ID token was issued to another client (azp)')
  if (checks.nonce !== undefined && payload.nonce !== checks.nonce)
    throw new IdTokenError('ID token nonce does not match this sign-in')
  return payload as IdTokenClaims
}

function describe(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'ID token expired'
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return 'ID token from another issuer'
    if (err.claim === 'aud') return 'ID token for another audience'
    if (err.claim === 'nbf') return 'ID token not valid yet'
    return `ID token claim ${err.claim} is invalid`
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed)
    return 'ID token signature does not verify'
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'ID token signed by an unknown key'
  if (err instanceof joseErrors.JWKSTimeout) return "the IdP's keys could not be fetched in time"
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'ID token algorithm is not allowed'
  if (err instanceof joseErrors.JWTInvalid) return 'ID token claims are not valid JSON'
  if (err instanceof joseErrors.JOSEError) return `ID token refused (${err.code})`
  return `ID token refused (${(err as Error).message.slice(0, 100)})`
}
