/**
 * Single sign-on and just-in-time elevation (issue 13), between the team server, its console, the
 * app and the CLI.
 *
 * The team server is the only client the identity provider (IdP) knows: one registration, one
 * redirect URI (`<public url>/auth/sso/callback`). The console signs in through it (authorization
 * code + PKCE + state + nonce); the app runs the same flow against the server with its own PKCE
 * pair and a loopback redirect (RFC 8252), and the CLI uses the device authorization grant
 * (RFC 8628) that the server relays to the IdP. Either way the server checks the IdP's ID token
 * (issuer, audience, expiry, signature against the IdP's JWKS), maps the IdP's claims to a team
 * and role (`MappingRule`, per team) and answers with its own short-lived access token (the same
 * EdDSA JWT a minted token is, `TokenClaims`) and a rotating refresh token. Each refresh asks the
 * IdP again, so a user whose groups no longer grant access loses it at the next refresh.
 *
 * HTTP (`IDENTITY_PATHS`):
 * - `GET config` → `SsoConfig` (public).
 * - `GET authorize?redirect_uri&state&code_challenge&code_challenge_method=S256[&team]`: the
 *   browser goes to the IdP; it comes back to `redirect_uri` (a loopback `http://127.0.0.1:PORT/…`
 *   or `http://[::1]:PORT/…`) with `code` and `state`, or `error` and `error_description`.
 * - `POST token` (form or JSON): `grant_type=authorization_code` (`code`, `code_verifier`,
 *   `redirect_uri`), `refresh_token` (`refresh_token`) or the device code grant (`device_code`);
 *   optional `team` when the IdP's claims grant several → `SsoTokens` or `SsoTokenError`.
 * - `POST device` → `DeviceStart` (when the IdP offers the device grant).
 * - `POST revoke` (`token`: a refresh token) → 200 (RFC 7009): the session, its access tokens and
 *   the IdP's refresh token are revoked.
 * - `GET console[?team]`: the console's sign-in, ending in its session cookie.
 * - With a bearer token: `GET me` → `IdentityView`; `GET|POST mapping` (admins) →
 *   `{ rules: MappingRule[] }`; elevations below.
 *
 * Elevation (`ELEVATION_PATHS`, bearer token; team and user from the token):
 * - `POST list` with `elevationRequestSchema` → `Elevation` (201): pending, or active at once when
 *   a team rule grants it without approval.
 * - `GET list[?status=]` → `{ elevations: Elevation[] }` (admins see the team's, others their own).
 * - `GET list/<id>[?wait=<ms>]` → `Elevation` (long poll while pending).
 * - `POST list/<id>/decision` with `elevationDecisionSchema` (an admin of the team by member role,
 *   never the requester) → `Elevation`.
 * - `POST list/<id>/end` (the requester, or an admin) → `Elevation`.
 * - `GET|POST policy` (admins) → `{ rules: ElevationRule[] }`.
 *
 * Free of Node-only imports: the renderer and the console import it.
 */
import { z } from 'zod'
import { ROLES, TEAM_NAME_RE, type Role } from './sync'

export const IDENTITY_PATHS = {
  config: '/auth/sso',
  authorize: '/auth/sso/authorize',
  /** Register `<public url>` + this path as the redirect URI at the IdP. */
  callback: '/auth/sso/callback',
  /** The team chooser page posts here when the IdP's claims grant several teams. */
  choose: '/auth/sso/choose',
  console: '/auth/sso/console',
  device: '/auth/sso/device',
  token: '/auth/sso/token',
  revoke: '/auth/sso/revoke',
  me: '/api/v1/identity',
  mapping: '/api/v1/identity/mapping',
} as const

export const ELEVATION_PATHS = {
  list: '/api/v1/elevations',
  policy: '/api/v1/elevation-policy',
} as const

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'

const roleSchema = z.enum(ROLES)

// ---------------------------------------------------------------------------------------------
// Sign-in

export interface SsoConfig {
  enabled: boolean
  issuer?: string
  /** The IdP offers the device authorization grant (`cmdai team login` without a browser). */
  deviceFlow: boolean
  /** Lifetime of the server's access tokens. */
  accessTokenSeconds?: number
}

export interface SsoTokens {
  access_token: string
  token_type: 'Bearer'
  /** Seconds the access token lives. */
  expires_in: number
  /** Single use: each refresh answers a new one; reusing an old one ends the session. */
  refresh_token: string
  team: string
  user: string
  role: Role
}

/** OAuth error codes (RFC 6749 §5.2, RFC 8628 §3.5) plus `team_required`. */
export interface SsoTokenError {
  error:
    | 'invalid_request'
    | 'invalid_grant'
    | 'unsupported_grant_type'
    | 'access_denied'
    | 'authorization_pending'
    | 'slow_down'
    | 'expired_token'
    | 'temporarily_unavailable'
    /** The IdP's claims grant several teams: repeat the request with `team`. */
    | 'team_required'
  error_description: string
  /** With `team_required`: the teams to choose from. */
  teams?: string[]
}

export const ssoTokensSchema = z
  .object({
    access_token: z.string().min(10).max(8_000),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int().positive(),
    refresh_token: z.string().min(20).max(200),
    team: z.string().regex(TEAM_NAME_RE),
    user: z.string().min(1).max(200),
    role: roleSchema,
  })
  .strict()

export const deviceStartSchema = z
  .object({
    device_code: z.string().min(20).max(200),
    user_code: z.string().min(1).max(100),
    verification_uri: z.string().url().max(2_000),
    verification_uri_complete: z.string().url().max(2_000).optional(),
    expires_in: z.number().int().positive(),
    interval: z.number().int().positive(),
  })
  .strict()
export type DeviceStart = z.output<typeof deviceStartSchema>

/**
 * A loopback redirect URI (RFC 8252 §7.3): `http`, the literal 127.0.0.1 or [::1] (never the
 * name `localhost`), any port, a path, no query or fragment.
 */
export function isLoopbackRedirect(uri: string): boolean {
  if (uri.length > 500) return false
  let u: URL
  try {
    u = new URL(uri)
  } catch {
    return false
  }
  return (
    u.protocol === 'http:' &&
    (u.hostname === '127.0.0.1' || u.hostname === '[::1]') &&
    u.port !== '' &&
    u.username === '' &&
    u.password === '' &&
    u.search === '' &&
    u.hash === '' &&
    uri === u.toString()
  )
}

// ---------------------------------------------------------------------------------------------
// Claim mapping (per team, edited in the console)

/**
 * One rule: a member whose IdP claims match gets `role` in the team. When several rules match,
 * the highest role wins; when none does, the user has no access to the team.
 * - `group`: the value is one of the groups claim's entries (the claim the server is configured
 *   with, `groups` by default; Entra sends group object ids, Keycloak paths like `/ops`).
 * - `emailDomain`: a verified email in this domain (`example.com`).
 * - `email`: exactly this verified email.
 * - `claim`: the claim named `claim` equals the value (or, for a list, contains it).
 */
export const mappingRuleSchema = z
  .object({
    match: z.enum(['group', 'emailDomain', 'email', 'claim']),
    value: z.string().min(1).max(500),
    /** The claim's name, for `claim` rules. */
    claim: z
      .string()
      .regex(/^[A-Za-z0-9_:.\-/]{1,100}$/)
      .optional(),
    role: roleSchema,
  })
  .strict()
  .refine((r) => (r.match === 'claim') === (r.claim !== undefined), {
    message: '`claim` names the claim of a claim rule (and only of one)',
  })
export type MappingRule = z.output<typeof mappingRuleSchema>

export const MAX_MAPPING_RULES = 200
export const mappingSchema = z
  .object({ rules: z.array(mappingRuleSchema).max(MAX_MAPPING_RULES) })
  .strict()
export type Mapping = z.output<typeof mappingSchema>

// ---------------------------------------------------------------------------------------------
// Just-in-time elevation

export const ELEVATION_STATUSES = [
  /** Waiting for approvers. */
  'pending',
  /** Granted: the role applies until `expiresAt`. */
  'active',
  'denied',
  /** Nobody decided in time (`requestExpiresAt`). */
  'lapsed',
  /** Ran its time. */
  'expired',
  /** Ended early (by the requester or an admin), or withdrawn while pending. */
  'ended',
] as const
export type ElevationStatus = (typeof ELEVATION_STATUSES)[number]

export const MIN_ELEVATION_MS = 60_000
export const MAX_ELEVATION_MS = 24 * 3600_000
/** Without a team rule: needs one admin's approval, for at most this long. */
export const DEFAULT_ELEVATION_MAX_MS = 8 * 3600_000
/** A request nobody decides lapses after this long. */
export const ELEVATION_REQUEST_TTL_MS = 3600_000
export const MAX_ELEVATION_WAIT_MS = 60_000

export const elevationRequestSchema = z
  .object({
    role: roleSchema,
    durationMs: z.number().int().min(MIN_ELEVATION_MS).max(MAX_ELEVATION_MS),
    reason: z.string().trim().min(3).max(1_000),
    /** Production work: never granted without a second person's approval. */
    production: z.boolean().default(false),
  })
  .strict()
export type ElevationRequest = z.input<typeof elevationRequestSchema>

export const elevationDecisionSchema = z
  .object({
    decision: z.enum(['approve', 'deny']),
    comment: z.string().max(1_000).default(''),
  })
  .strict()

/**
 * A team rule for elevations from one role to another: how long at most, and how many admins
 * (other than the requester) must approve. `approvals: 0` grants at once (say, engineers to admin
 * for 30 minutes during an incident, with `until` ending the incident window); a production
 * request always needs `productionApprovals` (at least one: a second person).
 */
export const elevationRuleSchema = z
  .object({
    from: roleSchema,
    to: roleSchema,
    maxMinutes: z
      .number()
      .int()
      .min(1)
      .max(MAX_ELEVATION_MS / 60_000),
    approvals: z.number().int().min(0).max(2),
    productionApprovals: z.number().int().min(1).max(2).default(1),
    /** The rule applies until then (epoch ms); absent: always. */
    until: z.number().int().positive().optional(),
    note: z.string().max(200).default(''),
  })
  .strict()
export type ElevationRule = z.output<typeof elevationRuleSchema>
export const elevationPolicySchema = z
  .object({ rules: z.array(elevationRuleSchema).max(50) })
  .strict()

export interface ElevationApproval {
  by: string
  at: number
  comment: string
}

export interface Elevation {
  id: string
  team: string
  user: string
  /** The member's role when asking. */
  fromRole: Role
  role: Role
  reason: string
  production: boolean
  durationMs: number
  status: ElevationStatus
  requestedAt: number
  /** A pending request lapses then. */
  requestExpiresAt: number
  /** Approvals needed (0: granted by a rule at once). */
  approvalsNeeded: number
  approvals: ElevationApproval[]
  /** Which rule decided what it needs (`from→to`), or `default`. */
  rule: string
  startsAt?: number
  expiresAt?: number
  /** Denied, ended or expired: when, by whom and why. */
  closedAt?: number
  closedBy?: string
  comment?: string
}

export const elevationSchema: z.ZodType<Elevation> = z
  .object({
    id: z.string().min(1).max(64),
    team: z.string().min(1).max(100),
    user: z.string().min(1).max(200),
    fromRole: roleSchema,
    role: roleSchema,
    reason: z.string().max(1_000),
    production: z.boolean(),
    durationMs: z.number().int(),
    status: z.enum(ELEVATION_STATUSES),
    requestedAt: z.number(),
    requestExpiresAt: z.number(),
    approvalsNeeded: z.number().int().min(0).max(2),
    approvals: z
      .array(z.object({ by: z.string().max(200), at: z.number(), comment: z.string().max(1_000) }))
      .max(5),
    rule: z.string().max(100),
    startsAt: z.number().optional(),
    expiresAt: z.number().optional(),
    closedAt: z.number().optional(),
    closedBy: z.string().max(200).optional(),
    comment: z.string().max(1_000).optional(),
  })
  .strict()

/** Who the bearer of a token is, as the server sees it now. */
export interface IdentityView {
  team: string
  user: string
  /** The effective role (with an active elevation). */
  role: Role
  /** The member's own role. */
  baseRole: Role
  /** How the token came: SSO (refreshable) or minted by an admin. */
  via: 'sso' | 'token'
  /** Epoch ms the token expires. */
  expiresAt: number
  elevation: Elevation | null
  pending: Elevation | null
}

export const identityViewSchema: z.ZodType<IdentityView> = z
  .object({
    team: z.string(),
    user: z.string(),
    role: roleSchema,
    baseRole: roleSchema,
    via: z.enum(['sso', 'token']),
    expiresAt: z.number(),
    elevation: elevationSchema.nullable(),
    pending: elevationSchema.nullable(),
  })
  .strict()

/** `1h`, `30m`, `90s`, `2h30m` → milliseconds; null when it is not a duration. */
export function parseElevationDuration(text: string): number | null {
  const t = text.trim()
  if (!/^(\d{1,5}[hms])+$/.test(t)) return null
  let ms = 0
  for (const m of t.matchAll(/(\d{1,5})([hms])/g))
    ms += Number(m[1]) * (m[2] === 'h' ? 3600_000 : m[2] === 'm' ? 60_000 : 1_000)
  return ms
}

// ---------------------------------------------------------------------------------------------
// The app's requests (`identity:*`): sign in with the team server's IdP (the system browser, or a
// new tab in browser mode, comes back to a loopback listener of the main process), see the
// effective role and elevation per team, ask for an elevation, end it, sign out.

/** A team the app is signed in to (or holds a token for), as its server sees it now. */
export interface TeamIdentity {
  server: string
  team: string
  /** Signed in with single sign-on (refreshed by the app) or a token given by hand. */
  sso: boolean
  /** Null when the server could not be asked (then `error` says why). */
  view: IdentityView | null
  error?: string
}

const serverUrl = z
  .string()
  .url()
  .max(2_000)
  .refine((u) => /^https?:\/\//.test(u), 'an http(s) URL')
const teamName = z.string().regex(TEAM_NAME_RE)

export const identityRequests = {
  /** Starts a sign-in: the URL to open in the browser, and the flow to wait for. */
  'identity:signIn': z.object({ server: serverUrl, team: teamName.optional() }).strict(),
  /** Waits for the browser to come back; joins `library` of the team when given. */
  'identity:signInWait': z
    .object({
      flow: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/),
      library: z
        .string()
        .regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/)
        .optional(),
    })
    .strict(),
  'identity:cancel': z.object({ flow: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/) }).strict(),
  'identity:status': z.object({}).strict(),
  'identity:elevate': z
    .object({
      team: teamName,
      role: roleSchema,
      durationMs: z.number().int().min(MIN_ELEVATION_MS).max(MAX_ELEVATION_MS),
      reason: z.string().trim().min(3).max(1_000),
      production: z.boolean().default(false),
    })
    .strict(),
  'identity:endElevation': z
    .object({ team: teamName, id: z.string().regex(/^[0-9a-f-]{36}$/) })
    .strict(),
  'identity:signOut': z.object({ team: teamName }).strict(),
} as const satisfies Record<string, z.ZodType>

export interface IdentityResults {
  'identity:signIn': { flow: string; url: string }
  'identity:signInWait': {
    team: string
    user: string
    role: Role
    /** The library joined, by id (`<team>/<library>`), when one was asked for. */
    library: string | null
  }
  'identity:cancel': null
  'identity:status': { teams: TeamIdentity[] }
  'identity:elevate': Elevation
  'identity:endElevation': Elevation
  'identity:signOut': null
}
