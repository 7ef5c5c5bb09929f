import { randomUUID } from 'node:crypto'
import { SignJWT, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose'
import { z } from 'zod'
import {
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  roleSchema,
  teamNameSchema,
  type Role,
  type TokenClaims,
} from '../../contract/sync'
import type { SqlClient } from '../storage/sql-client'
import type { Storage, TokenRow } from '../storage/storage'
import type { KeyRing } from './keys'

/** User ids: printable, no spaces or control characters (they appear in logs and exports). */
export const USER_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/
export const userIdSchema = z
  .string()
  .regex(USER_ID_RE, 'a user id like "ana" or "ana@example.com"')

const claimsSchema = z.object({
  iss: z.literal(TOKEN_ISSUER),
  sub: userIdSchema,
  team: teamNameSchema,
  role: roleSchema,
  jti: z.string().min(8).max(64),
  iat: z.number(),
  exp: z.number(),
})

export type TokenFailure = 'malformed' | 'invalid' | 'expired'

export class TokenError extends Error {
  override name = 'TokenError'
  constructor(
    readonly failure: TokenFailure,
    message: string,
  ) {
    super(message)
  }
}

const MAX_TOKEN_LENGTH = 4_096
const DURATION_RE = /^(\d{1,6})([smhdw]?)$/
const UNIT_SECONDS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3_600, d: 86_400, w: 604_800 }

/** Parses `30d`, `12h`, `15m`, `90s` or a number of seconds; at most ten years. */
export function parseDuration(text: string): number {
  const m = DURATION_RE.exec(text.trim())
  if (!m) throw new Error(`Invalid duration "${text}": use e.g. 30d, 12h, 15m or 90s`)
  const seconds = Number(m[1]) * UNIT_SECONDS[m[2] ?? '']!
  if (seconds < 1 || seconds > 3_650 * 86_400)
    throw new Error(`Invalid duration "${text}": between 1s and 3650d`)
  return seconds
}

export interface MintedToken {
  token: string
  row: TokenRow
}

/** Signs a token with the active token key and records it (for listing and revocation). */
export async function mintToken(
  keys: KeyRing,
  storage: Storage,
  input: { team: string; user: string; role: Role; ttlSeconds: number; label?: string | null },
  tx?: SqlClient,
): Promise<MintedToken> {
  const key = keys.active('token')
  const now = Math.floor(Date.now() / 1000)
  const jti = randomUUID()
  const token = await new SignJWT({ team: input.team, role: input.role })
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'JWT' })
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setSubject(input.user)
    .setJti(jti)
    .setIssuedAt(now)
    .setExpirationTime(now + input.ttlSeconds)
    .sign(key.privateKey)
  const row: TokenRow = {
    jti,
    team: input.team,
    user: input.user,
    role: input.role,
    label: input.label ?? null,
    kid: key.kid,
    createdAt: now * 1000,
    expiresAt: (now + input.ttlSeconds) * 1000,
    revokedAt: null,
  }
  await storage.insertToken(row, tx)
  return { token, row }
}

/** Verifies signature, issuer, audience and expiry; throws TokenError. Never logs the token. */
export async function verifyToken(keys: KeyRing, token: string): Promise<TokenClaims> {
  if (!token) throw new TokenError('malformed', 'no token')
  if (
    token.length > MAX_TOKEN_LENGTH ||
    !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token)
  )
    throw new TokenError('malformed', 'token is not a JWT')
  let kid: string | undefined
  try {
    const header = decodeProtectedHeader(token)
    if (header.alg !== 'EdDSA') throw new Error('alg')
    kid = header.kid
  } catch {
    throw new TokenError('malformed', 'token header is not an EdDSA JWT')
  }
  const key = kid ? await keys.publicKey(kid) : null
  if (!key) throw new TokenError('invalid', 'token signed by an unknown key')
  let payload: unknown
  try {
    payload = (
      await jwtVerify(token, key, {
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        algorithms: ['EdDSA'],
        clockTolerance: 30,
      })
    ).payload
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw new TokenError('expired', 'token expired')
    throw new TokenError('invalid', 'token does not verify')
  }
  const parsed = claimsSchema.safeParse(payload)
  if (!parsed.success) throw new TokenError('invalid', 'token claims are not a cmdai-sync token')
  return parsed.data
}
