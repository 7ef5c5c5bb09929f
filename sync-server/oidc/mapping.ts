import { roleAtLeast, type Role } from '../../contract/sync'
import type { MappingRule } from '../../contract/identity'
import { USER_ID_RE } from '../auth/tokens'

/**
 * From the IdP's claims to a user id and, per team, a role. Claims are the IdP's word and are
 * read defensively: only strings and lists of strings count, and an email counts only when the IdP
 * does not say it is unverified.
 */
export interface ClaimOptions {
  /** The claim holding the user's groups (`groups`; Entra can send `roles`). */
  groupsClaim: string
  /** Which claim names the user: `email`, `preferred_username`, `sub`, or another claim. */
  userClaim: string
}

const MAX_GROUPS = 2_000

/** The groups claim as a list of strings (a single string counts as one group). */
export function groupsOf(claims: Record<string, unknown>, claim: string): string[] {
  const v = claims[claim]
  if (typeof v === 'string') return [v]
  if (!Array.isArray(v)) return []
  return v.filter((g): g is string => typeof g === 'string' && g.length <= 500).slice(0, MAX_GROUPS)
}

/** The user's email when the IdP vouches for it (lower-cased), else null. */
export function verifiedEmail(claims: Record<string, unknown>): string | null {
  const email = claims.email
  if (typeof email !== 'string' || email.length > 254 || !/^[^@\s]+@[^@\s]+$/.test(email))
    return null
  // Absent `email_verified` counts as verified (many IdPs only issue verified addresses);
  // an explicit false (or "false") does not.
  const v = claims.email_verified
  if (v === false || v === 'false') return null
  return email.toLowerCase()
}

/**
 * The user id for the directory: the configured claim when it is a valid user id, else the
 * subject when it is one, else a stable id derived from the subject. The binding of (issuer,
 * subject) to this id is kept by the caller, so a later account presenting the same email cannot
 * take the id over.
 */
export function userIdFor(
  claims: Record<string, unknown>,
  subject: string,
  o: ClaimOptions,
): string {
  const candidates: unknown[] = []
  if (o.userClaim === 'email') candidates.push(verifiedEmail(claims))
  else if (o.userClaim !== 'sub') candidates.push(claims[o.userClaim])
  candidates.push(subject)
  for (const c of candidates) if (typeof c === 'string' && USER_ID_RE.test(c)) return c
  // Subjects may hold characters user ids may not (Entra, Auth0's `auth0|…`): keep them apart.
  return `sso-${Buffer.from(subject).toString('base64url').slice(0, 100)}`
}

/** The highest role the rules grant these claims; null when none matches. */
export function roleFor(
  rules: readonly MappingRule[],
  claims: Record<string, unknown>,
  o: Pick<ClaimOptions, 'groupsClaim'>,
): Role | null {
  const groups = new Set(groupsOf(claims, o.groupsClaim))
  const email = verifiedEmail(claims)
  const domain = email ? email.slice(email.lastIndexOf('@') + 1) : null
  let best: Role | null = null
  for (const rule of rules) {
    if (!matches(rule, claims, groups, email, domain)) continue
    if (!best || !roleAtLeast(best, rule.role)) best = rule.role
  }
  return best
}

function matches(
  rule: MappingRule,
  claims: Record<string, unknown>,
  groups: Set<string>,
  email: string | null,
  domain: string | null,
): boolean {
  switch (rule.match) {
    case 'group':
      return groups.has(rule.value)
    case 'email':
      return email !== null && email === rule.value.toLowerCase()
    case 'emailDomain':
      return domain !== null && domain === rule.value.toLowerCase().replace(/^@/, '')
    case 'claim': {
      if (!rule.claim || !Object.prototype.hasOwnProperty.call(claims, rule.claim)) return false
      const v = claims[rule.claim]
      if (typeof v === 'string') return v === rule.value
      if (typeof v === 'boolean' || typeof v === 'number') return String(v) === rule.value
      return Array.isArray(v) && v.some((x) => x === rule.value)
    }
  }
}

/** A short summary of the claims that decided, for audit records (never the whole token). */
export function claimSummary(
  claims: Record<string, unknown>,
  o: Pick<ClaimOptions, 'groupsClaim'>,
): Record<string, unknown> {
  const groups = groupsOf(claims, o.groupsClaim)
  return {
    groups: groups.slice(0, 50),
    ...(groups.length > 50 ? { moreGroups: groups.length - 50 } : {}),
    ...(verifiedEmail(claims) ? { email: verifiedEmail(claims) } : {}),
  }
}
