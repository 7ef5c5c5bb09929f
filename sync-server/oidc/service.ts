import { randomUUID } from 'node:crypto'
import type { MappingRule, SsoTokens } from '../../contract/identity'
import { SERVER_AUDIT_CHAIN, type Role } from '../../contract/sync'
import type { AuditDraft } from '../audit/chain'
import { mintToken } from '../auth/tokens'
import { RateLimiter } from '../console/rate-limit'
import { endSession } from '../console/sessions'
import type { ExtensionDeps } from '../server'
import type { SqlClient } from '../storage/sql-client'
import { IdpError, type IdentityProvider, type IdpIdentity } from './idp'
import { claimSummary, roleFor, userIdFor, type ClaimOptions } from './mapping'
import {
  allMappings,
  bindIdentity,
  getMapping,
  getSession,
  insertRefreshToken,
  insertSession,
  revokeSessions,
  saveMapping,
  spendRefreshToken,
  unspendRefreshToken,
  updateSession,
  type FlowIdentity,
  type FlowKind,
  type SessionRow,
} from './store'

/**
 * Sessions made by single sign-on: what a sign-in grants (the mapping per team), the server's own
 * access tokens (minted tokens with a short life, labelled `sso:<session>`, so revocation and the
 * connection re-check treat them like any token) and single-use refresh tokens, each refresh
 * asking the IdP again. Every change goes through the group commit with its audit records; IdP
 * calls never happen inside a commit.
 */
export interface SessionPolicy {
  accessTokenSeconds: number
  /** Absolute lifetime of a session when the IdP gave a refresh token (groups re-checked)... */
  sessionSeconds: number
  /** ...and when it did not (nothing can be re-checked, so it is short). */
  sessionSecondsWithoutIdpRefresh: number
  /** A refresh token unused this long lapses. */
  refreshIdleSeconds: number
}

export class SsoDenied extends Error {
  override name = 'SsoDenied'
  constructor(
    readonly error: 'access_denied' | 'invalid_grant' | 'team_required' | 'temporarily_unavailable',
    message: string,
    readonly teams: string[] = [],
  ) {
    super(message)
  }
}

export const SSO_ACTOR = 'sso'
const LABEL_PREFIX = 'sso:'

export function ssoLabel(sessionId: string): string {
  return `${LABEL_PREFIX}${sessionId}`
}

export interface SsoCoreDeps {
  deps: ExtensionDeps
  idp: IdentityProvider
  claims: ClaimOptions
  policy: SessionPolicy
  now(): number
}

export class SsoSessions {
  private readonly failureBudget = new RateLimiter(30, 60_000)

  constructor(private readonly c: SsoCoreDeps) {}

  /** The user id and the identity to keep with a flow, from what the IdP said. */
  identityOf(idp: IdpIdentity): FlowIdentity {
    return {
      issuer: this.c.idp.issuer,
      subject: idp.subject,
      user: userIdFor(idp.claims, idp.subject, this.c.claims),
      claims: trimClaims(idp.claims),
      idpRefresh: idp.refreshToken,
    }
  }

  /** The teams these claims grant a role in (teams with a mapping that matches). */
  async teamsFor(identity: FlowIdentity): Promise<Array<{ team: string; role: Role }>> {
    const out: Array<{ team: string; role: Role }> = []
    for (const [team, rules] of await allMappings(this.c.deps.storage.sql)) {
      const role = roleFor(rules, identity.claims, this.c.claims)
      if (role) out.push({ team, role })
    }
    return out
  }

  /** The team a sign-in is for: the one asked for, or the only one the claims grant. */
  async chooseTeam(identity: FlowIdentity, wanted: string | null): Promise<string> {
    const teams = await this.teamsFor(identity)
    if (teams.length === 0)
      throw new SsoDenied(
        'access_denied',
        `no team grants ${identity.user} access (ask an admin to map your groups)`,
      )
    if (wanted) {
      if (!teams.some((t) => t.team === wanted))
        throw new SsoDenied('access_denied', `your groups grant no role in ${wanted}`)
      return wanted
    }
    if (teams.length > 1)
      throw new SsoDenied(
        'team_required',
        'your groups grant access to several teams: choose one',
        teams.map((t) => t.team),
      )
    return teams[0]!.team
  }

  /**
   * Opens a session for a team: binds the IdP account to its user id, makes the member's role the
   * mapping's (audited as a member change when it changes), and issues the first tokens.
   */
  async open(
    identity: FlowIdentity,
    team: string,
    via: FlowKind,
    ip: string,
  ): Promise<{ tokens: SsoTokens; session: SessionRow }> {
    const { storage } = this.c.deps
    const now = this.c.now()
    const sid = randomUUID()
    const p = this.c.policy
    const expiresAt =
      now + 1000 * (identity.idpRefresh ? p.sessionSeconds : p.sessionSecondsWithoutIdpRefresh)
    let denied: string | null = null
    let out: { tokens: SsoTokens; session: SessionRow } | null = null
    let roleChanged = false
    await this.c.deps.commit({
      run: async (tx) => {
        const user = await bindIdentity(tx, identity.issuer, identity.subject, identity.user, now)
        if (!user) {
          denied = `the user id ${identity.user} belongs to another account of this IdP`
          return []
        }
        const role = roleFor(await getMapping(tx, team), identity.claims, this.c.claims)
        if (!role || !(await storage.getTeam(team, tx))) {
          denied = `your groups grant no role in ${team}`
          return []
        }
        const drafts = await this.applyRole(tx, team, user, role, via)
        roleChanged = drafts.some((d) => d.kind === 'member.set-role')
        const session: SessionRow = {
          id: sid,
          team,
          user,
          issuer: identity.issuer,
          subject: identity.subject,
          via,
          role,
          idpRefresh: identity.idpRefresh,
          consoleSession: null,
          createdAt: now,
          expiresAt,
          refreshedAt: now,
          revokedAt: null,
          revokedReason: null,
        }
        await insertSession(tx, session)
        const tokens = await this.issue(tx, session)
        out = { tokens, session }
        drafts.push({
          team,
          kind: 'sso.signin',
          actor: user,
          role,
          data: {
            via,
            session: sid,
            ip,
            issuer: identity.issuer,
            subject: identity.subject,
            ...claimSummary(identity.claims, this.c.claims),
            offline: identity.idpRefresh !== null,
          },
        })
        return drafts
      },
    })
    if (denied || !out) throw new SsoDenied('access_denied', denied ?? 'sign-in refused')
    if (roleChanged) await this.c.deps.recheckConnections()
    return out
  }

  /** Trades a refresh token for new tokens, after asking the IdP whether access still stands. */
  async refresh(refreshToken: string, ip: string): Promise<SsoTokens> {
    const db = this.c.deps.storage.sql
    if (!/^[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/.test(refreshToken))
      throw new SsoDenied('invalid_grant', 'not a refresh token of this server')
    const spent = await spendRefreshToken(db, refreshToken, this.c.now())
    if (spent.status === 'unknown')
      throw new SsoDenied('invalid_grant', 'not a refresh token of this server')
    if (spent.status === 'reused') {
      // A used refresh token again: whoever holds the chain is not only the client. End it all.
      await this.revoke(spent.sessionId, 'refresh token reused', SSO_ACTOR, ip)
      throw new SsoDenied('invalid_grant', 'refresh token already used: the session is ended')
    }
    if (spent.status === 'expired') throw new SsoDenied('invalid_grant', 'refresh token expired')
    const session = await getSession(db, spent.sessionId)
    if (!session || session.revokedAt !== null || session.expiresAt <= this.c.now())
      throw new SsoDenied('invalid_grant', 'the session has ended: sign in again')
    let claims: Record<string, unknown> | null = null
    let idpRefresh = session.idpRefresh
    if (session.idpRefresh) {
      try {
        const again = await this.c.idp.refresh(session.idpRefresh, session.subject)
        claims = trimClaims(again.claims)
        idpRefresh = again.refreshToken
      } catch (err) {
        if (err instanceof IdpError && err.kind === 'unavailable') {
          await unspendRefreshToken(db, refreshToken)
          throw new SsoDenied('temporarily_unavailable', err.message)
        }
        await this.revoke(session.id, `the IdP refused: ${(err as Error).message}`, SSO_ACTOR, ip)
        throw new SsoDenied(
          'invalid_grant',
          'the IdP no longer accepts this session: sign in again',
        )
      }
    }
    const rules = await getMapping(db, session.team)
    const role = claims ? roleFor(rules, claims, this.c.claims) : session.role
    if (!role) {
      await this.accessLost(session, claims ?? {}, ip)
      throw new SsoDenied('access_denied', `your groups no longer grant access to ${session.team}`)
    }
    let tokens: SsoTokens | null = null
    let roleChanged = false
    await this.c.deps.commit({
      run: async (tx) => {
        const live = await getSession(tx, session.id)
        if (!live || live.revokedAt !== null) return []
        const member = await this.c.deps.storage.getMember(session.team, session.user, tx)
        if (!member) return []
        const drafts = await this.applyRole(tx, session.team, session.user, role, session.via)
        roleChanged = drafts.length > 0
        await updateSession(tx, session.id, { role, idpRefresh, refreshedAt: this.c.now() })
        tokens = await this.issue(tx, { ...session, role })
        return drafts
      },
    })
    if (roleChanged) await this.c.deps.recheckConnections()
    if (!tokens) throw new SsoDenied('invalid_grant', 'the session has ended: sign in again')
    return tokens
  }

  /** Re-checks a console session with the IdP (no client refreshes those). */
  async recheck(session: SessionRow, ip: string): Promise<void> {
    if (!session.idpRefresh) return
    let claims: Record<string, unknown>
    let idpRefresh: string | null
    try {
      const again = await this.c.idp.refresh(session.idpRefresh, session.subject)
      claims = trimClaims(again.claims)
      idpRefresh = again.refreshToken
    } catch (err) {
      if (err instanceof IdpError && err.kind === 'unavailable') return
      await this.revoke(session.id, `the IdP refused: ${(err as Error).message}`, SSO_ACTOR, ip)
      return
    }
    const role = roleFor(
      await getMapping(this.c.deps.storage.sql, session.team),
      claims,
      this.c.claims,
    )
    if (!role) return this.accessLost(session, claims, ip)
    let changed = false
    await this.c.deps.commit({
      run: async (tx) => {
        if (!(await this.c.deps.storage.getMember(session.team, session.user, tx))) return []
        const drafts = await this.applyRole(tx, session.team, session.user, role, session.via)
        changed = drafts.length > 0
        await updateSession(tx, session.id, { role, idpRefresh, refreshedAt: this.c.now() })
        return drafts
      },
    })
    if (changed) await this.c.deps.recheckConnections()
  }

  /**
   * The IdP's claims no longer grant a role in the team: the member is removed (every token and
   * session revoked, open connections closed), as leaving the group or the company means.
   */
  async accessLost(
    session: SessionRow,
    claims: Record<string, unknown>,
    ip: string,
  ): Promise<void> {
    const { storage } = this.c.deps
    const now = this.c.now()
    await this.c.deps.commit({
      run: async (tx) => {
        const sessions = await revokeSessions(
          tx,
          { team: session.team, user: session.user },
          now,
          'groups no longer grant access',
        )
        await this.endConsoleSessions(tx, sessions)
        const removed = await storage.removeMember(session.team, session.user, tx)
        const tokens = await storage.listTokens({ team: session.team, user: session.user }, tx)
        const revoked = await storage.revokeTokens(
          tokens.map((t) => t.jti),
          Date.now(),
          tx,
        )
        const drafts: AuditDraft[] = [
          {
            team: session.team,
            kind: 'sso.revoke',
            actor: SSO_ACTOR,
            data: {
              user: session.user,
              reason: 'groups no longer grant access',
              sessions: sessions.map((s) => s.id),
              ip,
              ...claimSummary(claims, this.c.claims),
            },
          },
        ]
        if (removed)
          drafts.push({
            team: session.team,
            kind: 'member.remove',
            actor: SSO_ACTOR,
            data: { user: session.user, revokedTokens: revoked, reason: 'IdP groups' },
          })
        return drafts
      },
    })
    await this.c.deps.recheckConnections()
  }

  /** Ends a session: its refresh tokens stop working and its access tokens are revoked. */
  async revoke(sessionId: string, reason: string, actor: string, ip: string): Promise<boolean> {
    const now = this.c.now()
    let ended: SessionRow | null = null
    await this.c.deps.commit({
      run: async (tx) => {
        const [s] = await revokeSessions(tx, { id: sessionId }, now, reason)
        if (!s) return []
        ended = s
        await this.endConsoleSessions(tx, [s])
        const revoked = await this.revokeAccessTokens(tx, s)
        return [
          {
            team: s.team,
            kind: actor === s.user ? 'sso.signout' : 'sso.revoke',
            actor,
            data: { user: s.user, session: s.id, reason, ip, revokedTokens: revoked.length },
          },
        ]
      },
    })
    if (!ended) return false
    const s = ended as SessionRow
    if (s.idpRefresh) void this.c.idp.revoke(s.idpRefresh).catch(() => false)
    await this.c.deps.recheckConnections()
    return true
  }

  /** The session a refresh token belongs to (sign-out), without spending the token. */
  sessionIdOf(refreshToken: string): string | null {
    const m = /^([0-9a-f-]{36})\.[A-Za-z0-9_-]{43}$/.exec(refreshToken)
    return m ? m[1]! : null
  }

  async mapping(team: string): Promise<MappingRule[]> {
    return getMapping(this.c.deps.storage.sql, team)
  }

  async saveMapping(team: string, rules: MappingRule[], actor: string): Promise<boolean> {
    let saved = false
    await this.c.deps.commit({
      run: async (tx) => {
        if (!(await this.c.deps.storage.getTeam(team, tx))) return []
        const before = await getMapping(tx, team)
        await saveMapping(tx, team, rules, actor, this.c.now())
        saved = true
        return [
          {
            team,
            kind: 'sso.mapping',
            actor,
            data: { rules, previousRules: before.length },
          },
        ]
      },
    })
    return saved
  }

  /**
   * Records a failed sign-in (the team's chain when it is known, else the server's); beyond a
   * budget per client address and minute they are only logged, so a flood cannot fill the log.
   */
  async failure(team: string | null, via: string, reason: string, ip: string): Promise<void> {
    if (!this.failureBudget.take(ip)) {
      this.c.deps.logger.warn({ ip, via, reason }, 'sso failure not audited (over the budget)')
      return
    }
    const chain =
      team && (await this.c.deps.storage.getTeam(team).catch(() => null))
        ? team
        : SERVER_AUDIT_CHAIN
    await this.c.deps
      .commit({
        drafts: [
          {
            team: chain,
            kind: 'auth.failure',
            actor: 'anonymous',
            data: { via: `sso-${via}`, reason: reason.slice(0, 300), ip },
          },
        ],
      })
      .catch(() => {})
  }

  private async issue(tx: SqlClient, session: SessionRow): Promise<SsoTokens> {
    const now = this.c.now()
    const p = this.c.policy
    const left = Math.floor((session.expiresAt - now) / 1000)
    const ttl = Math.max(1, Math.min(p.accessTokenSeconds, left))
    const minted = await mintToken(
      this.c.deps.keys,
      this.c.deps.storage,
      {
        team: session.team,
        user: session.user,
        role: session.role,
        ttlSeconds: ttl,
        label: ssoLabel(session.id),
      },
      tx,
    )
    const refresh = await insertRefreshToken(
      tx,
      session.id,
      now,
      Math.min(session.expiresAt, now + p.refreshIdleSeconds * 1000),
    )
    return {
      access_token: minted.token,
      token_type: 'Bearer',
      expires_in: ttl,
      refresh_token: refresh,
      team: session.team,
      user: session.user,
      role: session.role,
    }
  }

  /** Makes the member's role the mapping's; the audit records of what changed. */
  private async applyRole(
    tx: SqlClient,
    team: string,
    user: string,
    role: Role,
    via: FlowKind,
  ): Promise<AuditDraft[]> {
    const previous = await this.c.deps.storage.upsertMember(team, user, role, tx)
    if (previous === null)
      return [{ team, kind: 'member.add', actor: SSO_ACTOR, data: { user, role, via } }]
    if (previous !== role)
      return [
        {
          team,
          kind: 'member.set-role',
          actor: SSO_ACTOR,
          data: { user, role, previous, reason: 'IdP groups' },
        },
      ]
    return []
  }

  private async revokeAccessTokens(tx: SqlClient, s: SessionRow): Promise<string[]> {
    const { storage } = this.c.deps
    const mine = (await storage.listTokens({ team: s.team, user: s.user }, tx)).filter(
      (t) => t.label === ssoLabel(s.id) && t.revokedAt === null,
    )
    return storage.revokeTokens(
      mine.map((t) => t.jti),
      Date.now(),
      tx,
    )
  }

  /** The console sessions these SSO sessions opened end with them. */
  private async endConsoleSessions(tx: SqlClient, sessions: SessionRow[]): Promise<void> {
    for (const s of sessions)
      if (s.consoleSession) await endSession(tx, s.team, s.consoleSession, this.c.now())
  }
}

const MAX_CLAIMS_JSON = 32_768

/**
 * The claims kept with a flow or used for a mapping: strings, numbers, booleans and lists of
 * strings; bounded in size (a huge groups claim is cut, never stored whole).
 */
export function trimClaims(claims: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  let size = 0
  for (const [k, v] of Object.entries(claims)) {
    if (k.length > 100 || k === '__proto__') continue
    let value: unknown
    if (typeof v === 'string') value = v.slice(0, 1_000)
    else if (typeof v === 'number' || typeof v === 'boolean') value = v
    else if (Array.isArray(v))
      value = v.filter((x): x is string => typeof x === 'string' && x.length <= 500).slice(0, 2_000)
    else continue
    const cost = k.length + JSON.stringify(value).length
    if (size + cost > MAX_CLAIMS_JSON) continue
    size += cost
    out[k] = value
  }
  return out
}
