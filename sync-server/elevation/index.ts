import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  ELEVATION_PATHS,
  ELEVATION_REQUEST_TTL_MS,
  ELEVATION_STATUSES,
  IDENTITY_PATHS,
  MAX_ELEVATION_WAIT_MS,
  elevationDecisionSchema,
  elevationPolicySchema,
  elevationRequestSchema,
  type Elevation,
  type ElevationRequest,
  type ElevationRule,
  type ElevationStatus,
  type IdentityView,
} from '../../contract/identity'
import type { Role } from '../../contract/sync'
import type { AuditDraft } from '../audit/chain'
import { ConsoleError, parseInput, readJson, sendError, sendJson } from '../console/http'
import { bearerToken, peekTeam } from '../oidc/http'
import { ensureIdentitySchema } from '../oidc/schema'
import type { Principal } from '../rooms/connection'
import type { ExtensionDeps, HttpExtension } from '../server'
import { decisionProblem, requestProblem, requirementFor } from './rules'
import {
  activeElevations,
  closeDue,
  getElevation,
  getPolicy,
  insertElevation,
  listElevations,
  openElevations,
  savePolicy,
  updateElevation,
} from './store'

/** Who acts on elevations: a member of a team with their own (not elevated) role. */
export interface ElevationActor {
  team: string
  user: string
  memberRole: Role
}

export interface ElevationOptions {
  /** The clock (tests advance it instead of sleeping). */
  now?: () => number
}

/**
 * Just-in-time elevation as a server extension (`contract/identity.ts` for the endpoints): a
 * member asks for a higher role for a while with a reason; the team's rules grant it at once or
 * ask admins (by their own role, never the requester) to approve; it ends on time (absolute
 * times in the database, so restarts change nothing), early when ended, and every step is in the
 * team's audit log. The server asks `elevatedRole` for each sign-in and each re-check of open
 * connections, so a granted or ended elevation reaches live connections within a re-check.
 */
export class ElevationService implements HttpExtension {
  private readonly now: () => number
  private readonly ready: Promise<void>
  private active = new Map<string, { role: Role; until: number }>()
  private readonly waiters = new Map<string, Set<() => void>>()
  private readonly listeners = new Set<(e: Elevation) => void>()

  constructor(
    private readonly deps: ExtensionDeps,
    options: ElevationOptions = {},
  ) {
    this.now = options.now ?? (() => Date.now())
    this.ready = ensureIdentitySchema(deps.storage).then(() => this.reload())
    this.ready.catch((err: Error) => deps.logger.error({ err: err.message }, 'elevation tables'))
  }

  elevatedRole(team: string, user: string): { role: Role; until: number } | null {
    const e = this.active.get(`${team}\u0000${user}`)
    return e && e.until > this.now() ? e : null
  }

  async beforeRecheck(): Promise<void> {
    await this.ready
    await this.sweep()
    await this.reload()
  }

  /** Called with every elevation that changes (the console's live view). */
  onChange(listener: (e: Elevation) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  // --- operations (HTTP and console) ----------------------------------------------------------

  async request(actor: ElevationActor, input: ElevationRequest): Promise<Elevation> {
    await this.ready
    const req = parseInput(elevationRequestSchema, input)
    const problem = requestProblem(actor.memberRole, req.role)
    if (problem) throw new ConsoleError(400, 'invalid_input', problem)
    const now = this.now()
    if ((await openElevations(this.deps.storage.sql, actor.team, actor.user, now)).length > 0)
      throw new ConsoleError(
        409,
        'conflict',
        'you have a pending or active elevation in this team: end it first',
      )
    const need = requirementFor(
      await getPolicy(this.deps.storage.sql, actor.team),
      actor.memberRole,
      req.role,
      req.production,
      now,
    )
    if (req.durationMs > need.maxMs)
      throw new ConsoleError(
        400,
        'invalid_input',
        `at most ${Math.floor(need.maxMs / 60_000)} minutes for ${actor.memberRole} → ${req.role}`,
      )
    const granted = need.approvalsNeeded === 0
    const e: Elevation = {
      id: randomUUID(),
      team: actor.team,
      user: actor.user,
      fromRole: actor.memberRole,
      role: req.role,
      reason: this.deps.redact(req.reason),
      production: req.production,
      durationMs: req.durationMs,
      status: granted ? 'active' : 'pending',
      requestedAt: now,
      requestExpiresAt: now + ELEVATION_REQUEST_TTL_MS,
      approvalsNeeded: need.approvalsNeeded,
      approvals: [],
      rule: need.rule,
      ...(granted ? { startsAt: now, expiresAt: now + req.durationMs } : {}),
    }
    let stored = false
    await this.deps.commit({
      run: async (tx) => {
        // Checked again inside the commit: two requests at once leave one.
        if ((await openElevations(tx, actor.team, actor.user, now)).length > 0) return []
        await insertElevation(tx, e)
        stored = true
        const drafts: AuditDraft[] = [this.record('elevation.request', e, actor.user)]
        if (granted) drafts.push(this.record('elevation.grant', e, 'system', { auto: true }))
        return drafts
      },
    })
    if (!stored)
      throw new ConsoleError(409, 'conflict', 'you have a pending or active elevation already')
    await this.changed(e)
    return e
  }

  async decide(
    actor: ElevationActor,
    id: string,
    input: { decision: 'approve' | 'deny'; comment?: string },
  ): Promise<Elevation> {
    await this.ready
    const d = parseInput(elevationDecisionSchema, input)
    const current = await this.visible(actor, id)
    if (current.status !== 'pending' || current.requestExpiresAt <= this.now())
      throw new ConsoleError(409, 'conflict', `this request is ${current.status} already`)
    const problem = decisionProblem(current, actor.user, actor.memberRole)
    if (problem) throw new ConsoleError(403, 'forbidden', problem)
    const comment = this.deps.redact(d.comment)
    let result: Elevation | null = null
    await this.deps.commit({
      run: async (tx) => {
        const e = await getElevation(tx, id, true)
        const now = this.now()
        if (!e || e.status !== 'pending' || e.requestExpiresAt <= now) return []
        if (decisionProblem(e, actor.user, actor.memberRole)) return []
        let next: Elevation
        const drafts: AuditDraft[] = []
        if (d.decision === 'deny') {
          next = { ...e, status: 'denied', closedAt: now, closedBy: actor.user, comment }
          drafts.push(this.record('elevation.deny', next, actor.user, { comment }))
        } else {
          const approvals = [...e.approvals, { by: actor.user, at: now, comment }]
          const done = approvals.length >= e.approvalsNeeded
          next = {
            ...e,
            approvals,
            ...(done
              ? { status: 'active' as const, startsAt: now, expiresAt: now + e.durationMs }
              : {}),
          }
          drafts.push(
            this.record('elevation.approve', next, actor.user, {
              comment,
              approvals: approvals.length,
              needed: e.approvalsNeeded,
            }),
          )
          if (done) drafts.push(this.record('elevation.grant', next, 'system', { auto: false }))
        }
        if (!(await updateElevation(tx, next, 'pending'))) return []
        result = next
        return drafts
      },
    })
    if (!result) throw new ConsoleError(409, 'conflict', 'the request changed meanwhile: reload')
    await this.changed(result)
    return result
  }

  /** Ends an active elevation early, or withdraws a pending request. */
  async end(actor: ElevationActor, id: string, comment = ''): Promise<Elevation> {
    await this.ready
    const current = await this.visible(actor, id)
    if (actor.user !== current.user && actor.memberRole !== 'admin')
      throw new ConsoleError(403, 'forbidden', 'only the requester or an admin ends an elevation')
    if (current.status !== 'pending' && current.status !== 'active')
      throw new ConsoleError(409, 'conflict', `this elevation is ${current.status} already`)
    let result: Elevation | null = null
    const text = this.deps.redact(comment.slice(0, 1_000))
    await this.deps.commit({
      run: async (tx) => {
        const e = await getElevation(tx, id, true)
        if (!e || (e.status !== 'pending' && e.status !== 'active')) return []
        const next: Elevation = {
          ...e,
          status: 'ended',
          closedAt: this.now(),
          closedBy: actor.user,
          ...(text ? { comment: text } : {}),
        }
        if (!(await updateElevation(tx, next, e.status))) return []
        result = next
        return [this.record('elevation.end', next, actor.user, { was: e.status, comment: text })]
      },
    })
    if (!result) throw new ConsoleError(409, 'conflict', 'the elevation changed meanwhile: reload')
    await this.changed(result)
    return result
  }

  /** Admins see the team's; others their own. */
  async list(actor: ElevationActor, status?: ElevationStatus): Promise<Elevation[]> {
    await this.ready
    await this.sweep()
    return listElevations(this.deps.storage.sql, {
      team: actor.team,
      ...(actor.memberRole === 'admin' ? {} : { user: actor.user }),
      ...(status ? { status } : {}),
    })
  }

  async get(actor: ElevationActor, id: string, waitMs = 0): Promise<Elevation> {
    await this.ready
    let e = await this.visible(actor, id)
    const deadline = Date.now() + Math.min(Math.max(waitMs, 0), MAX_ELEVATION_WAIT_MS)
    while (e.status === 'pending' && Date.now() < deadline) {
      await this.waitFor(id, Math.min(1_000, deadline - Date.now()))
      e = await this.visible(actor, id)
    }
    return e
  }

  async policy(team: string): Promise<ElevationRule[]> {
    await this.ready
    return getPolicy(this.deps.storage.sql, team)
  }

  async savePolicy(actor: ElevationActor, input: unknown): Promise<ElevationRule[]> {
    await this.ready
    if (actor.memberRole !== 'admin')
      throw new ConsoleError(403, 'forbidden', 'only admins change the elevation rules')
    const { rules } = parseInput(elevationPolicySchema, input)
    await this.deps.commit({
      run: async (tx) => {
        await savePolicy(tx, actor.team, rules, actor.user, this.now())
        return [
          {
            team: actor.team,
            kind: 'elevation.policy',
            actor: actor.user,
            role: actor.memberRole,
            data: { rules },
          },
        ]
      },
    })
    return rules
  }

  /** Who a principal is now, with its elevation (`GET /api/v1/identity`). */
  async identity(principal: Principal): Promise<IdentityView> {
    await this.ready
    const open = await openElevations(
      this.deps.storage.sql,
      principal.team,
      principal.user,
      this.now(),
    )
    const token = await this.deps.storage.getToken(principal.jti)
    return {
      team: principal.team,
      user: principal.user,
      role: principal.role,
      baseRole: principal.memberRole ?? principal.role,
      via: token?.label?.startsWith('sso:') ? 'sso' : 'token',
      expiresAt: principal.expiresAt,
      elevation: open.find((e) => e.status === 'active') ?? null,
      pending: open.find((e) => e.status === 'pending') ?? null,
    }
  }

  // --- HTTP -----------------------------------------------------------------------------------

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const path = url.pathname
    const list = ELEVATION_PATHS.list
    if (
      path !== IDENTITY_PATHS.me &&
      path !== ELEVATION_PATHS.policy &&
      path !== list &&
      !path.startsWith(list + '/')
    )
      return false
    try {
      // The elevations in force are loaded before anyone is signed in here.
      await this.ready
      const principal = await this.signIn(req)
      const actor: ElevationActor = {
        team: principal.team,
        user: principal.user,
        memberRole: principal.memberRole ?? principal.role,
      }
      const method = req.method ?? 'GET'
      const body = async () => readJson(req, 64 * 1024)
      if (path === IDENTITY_PATHS.me && method === 'GET')
        return (sendJson(res, 200, await this.identity(principal)), true)
      if (path === ELEVATION_PATHS.policy) {
        if (method === 'GET')
          return (sendJson(res, 200, { rules: await this.policy(actor.team) }), true)
        if (method === 'POST')
          return (sendJson(res, 200, { rules: await this.savePolicy(actor, await body()) }), true)
      }
      if (path === list && method === 'GET') {
        const s = url.searchParams.get('status')
        if (s !== null && !(ELEVATION_STATUSES as readonly string[]).includes(s))
          throw new ConsoleError(400, 'invalid_input', 'unknown status')
        const elevations = await this.list(actor, (s as ElevationStatus | null) ?? undefined)
        return (sendJson(res, 200, { elevations }), true)
      }
      if (path === list && method === 'POST')
        return (sendJson(res, 201, await this.request(actor, (await body()) as never)), true)
      const rest = path.slice(list.length + 1).split('/')
      const id = rest[0] ?? ''
      if (!/^[0-9a-f-]{36}$/.test(id)) throw new ConsoleError(404, 'not_found', 'no such elevation')
      if (rest.length === 1 && method === 'GET') {
        const wait = Number(url.searchParams.get('wait') ?? 0) || 0
        return (sendJson(res, 200, await this.get(actor, id, wait)), true)
      }
      if (rest.length === 2 && rest[1] === 'decision' && method === 'POST')
        return (sendJson(res, 200, await this.decide(actor, id, (await body()) as never)), true)
      if (rest.length === 2 && rest[1] === 'end' && method === 'POST') {
        const b = (await body()) as { comment?: unknown } | null
        const comment = typeof b?.comment === 'string' ? b.comment : ''
        return (sendJson(res, 200, await this.end(actor, id, comment)), true)
      }
      throw new ConsoleError(405, 'invalid_input', 'no such endpoint')
    } catch (err) {
      if (!(err instanceof ConsoleError))
        this.deps.logger.warn({ err: (err as Error).message, path }, 'elevation request failed')
      sendError(res, err)
      return true
    }
  }

  close(): void {
    for (const set of this.waiters.values()) for (const wake of set) wake()
    this.waiters.clear()
  }

  // --- internals ------------------------------------------------------------------------------

  private async signIn(req: IncomingMessage): Promise<Principal> {
    const token = bearerToken(req)
    const team = peekTeam(token)
    const auth = await this.deps.authenticate(
      token,
      team ?? '',
      this.deps.clientIp(req),
      'elevation',
    )
    if (!auth.ok) throw new ConsoleError(401, 'forbidden', auth.reason)
    return auth.principal
  }

  /** An elevation of the actor's team that the actor may see (admins: all; others: their own). */
  private async visible(actor: ElevationActor, id: string): Promise<Elevation> {
    const e = await getElevation(this.deps.storage.sql, id)
    if (!e || e.team !== actor.team || (actor.memberRole !== 'admin' && e.user !== actor.user))
      throw new ConsoleError(404, 'not_found', 'no such elevation')
    return e
  }

  /** Closes what ran its time (expired) or waited too long (lapsed), with their records. */
  private async sweep(): Promise<void> {
    let closed: Elevation[] = []
    await this.deps.commit({
      run: async (tx) => {
        const { expired, lapsed } = await closeDue(tx, this.now())
        closed = [...expired, ...lapsed]
        return [
          ...expired.map((e) => this.record('elevation.expire', e, 'system', { at: e.closedAt })),
          ...lapsed.map((e) => this.record('elevation.lapse', e, 'system', {})),
        ]
      },
    })
    for (const e of closed) this.notify(e)
  }

  private async reload(): Promise<void> {
    const next = new Map<string, { role: Role; until: number }>()
    for (const e of await activeElevations(this.deps.storage.sql, this.now()))
      next.set(`${e.team}\u0000${e.user}`, { role: e.role, until: e.expiresAt! })
    this.active = next
  }

  private async changed(e: Elevation): Promise<void> {
    await this.reload()
    this.notify(e)
    await this.deps.recheckConnections()
  }

  private notify(e: Elevation): void {
    for (const wake of this.waiters.get(e.id) ?? []) wake()
    for (const l of this.listeners) {
      try {
        l(e)
      } catch {
        // A listener's failure is its own.
      }
    }
  }

  private waitFor(id: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const set = this.waiters.get(id) ?? new Set()
      this.waiters.set(id, set)
      const done = () => {
        clearTimeout(timer)
        set.delete(done)
        if (set.size === 0) this.waiters.delete(id)
        resolve()
      }
      const timer = setTimeout(done, Math.max(ms, 0))
      set.add(done)
    })
  }

  private record(
    kind: AuditDraft['kind'],
    e: Elevation,
    actor: string,
    extra: Record<string, unknown> = {},
  ): AuditDraft {
    return {
      team: e.team,
      kind,
      actor,
      data: {
        id: e.id,
        user: e.user,
        from: e.fromRole,
        role: e.role,
        reason: e.reason,
        production: e.production,
        durationMs: e.durationMs,
        rule: e.rule,
        ...(e.startsAt !== undefined ? { startsAt: new Date(e.startsAt).toISOString() } : {}),
        ...(e.expiresAt !== undefined ? { expiresAt: new Date(e.expiresAt).toISOString() } : {}),
        ...extra,
      },
    }
  }
}

export function createElevation(deps: ExtensionDeps, options?: ElevationOptions): ElevationService {
  return new ElevationService(deps, options)
}
