import { CLOSE, lowerRole } from '../../contract/sync'
import type { Principal } from '../rooms/connection'
import type { Storage } from '../storage/storage'
import type { KeyRing } from './keys'
import { TokenError, verifyToken } from './tokens'

export type AuthResult =
  | { ok: true; principal: Principal }
  | {
      ok: false
      /** WebSocket close code (4400-4499). */
      code: number
      /** Short reason for the client and the audit record (never the token). */
      reason: string
      /** The claimed user, when the token verified that far. */
      user: string | null
      /** The team the token claimed, when it verified. */
      tokenTeam: string | null
    }

/**
 * Signs a request in for `team`: the token must verify (signature, issuer, audience, expiry),
 * be for this team, be one this server issued and did not revoke, and belong to a current
 * member. The effective role is the lower of the token's and the member's.
 */
export async function authenticate(
  keys: KeyRing,
  storage: Storage,
  token: string | null,
  team: string,
  ip: string,
): Promise<AuthResult> {
  const refuse = (
    code: number,
    reason: string,
    user: string | null = null,
    tokenTeam: string | null = null,
  ) => ({ ok: false, code, reason, user, tokenTeam }) as const
  if (!token) return refuse(CLOSE.unauthenticated, 'no token')
  let claims
  try {
    claims = await verifyToken(keys, token)
  } catch (err) {
    if (err instanceof TokenError)
      return refuse(err.failure === 'expired' ? CLOSE.expired : CLOSE.unauthenticated, err.message)
    throw err
  }
  if (claims.team !== team)
    return refuse(CLOSE.wrongTeam, 'token is for another team', claims.sub, claims.team)
  if (!(await storage.getTeam(team)))
    return refuse(CLOSE.unknownTeam, 'no such team', claims.sub, claims.team)
  const row = await storage.getToken(claims.jti)
  if (!row || row.team !== claims.team || row.user !== claims.sub)
    return refuse(CLOSE.unauthenticated, 'token not issued by this server', claims.sub, claims.team)
  if (row.revokedAt !== null) return refuse(CLOSE.revoked, 'token revoked', claims.sub, claims.team)
  const member = await storage.getMember(team, claims.sub)
  if (!member) return refuse(CLOSE.notMember, 'not a member of the team', claims.sub, claims.team)
  return {
    ok: true,
    principal: {
      team,
      user: claims.sub,
      role: lowerRole(claims.role, member.role),
      tokenRole: claims.role,
      memberRole: member.role,
      jti: claims.jti,
      expiresAt: claims.exp * 1000,
      ip,
    },
  }
}
