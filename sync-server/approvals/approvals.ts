import { createHash, randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  APPROVAL_PATHS,
  APPROVAL_STATUSES,
  APPROVED_VALID_MS,
  DEFAULT_APPROVAL_TTL_MS,
  MAX_APPROVAL_WAIT_MS,
  approvalDecisionSchema,
  approvalRequestSchema,
  type Approval,
  type ApprovalStatus,
} from '../../contract/approvals'
import { roleAtLeast, type ClientEvent } from '../../contract/sync'
import type { AuditDraft } from '../audit/chain'
import { ConsoleError, readJson, sendJson as send } from '../console/http'
import { ensureConsoleSchema } from '../console/schema'
import type { Principal } from '../rooms/connection'
import type { ExtensionDeps, HttpExtension } from '../server'
import type { SqlClient } from '../storage/sql-client'
import {
  countPending,
  decideApproval,
  expireApprovals,
  getApproval,
  insertApproval,
  listApprovals,
  purgeApprovals,
} from './store'

/**
 * Team approvals on the server (see `contract/approvals.ts`): a member asks to run one exact
 * command; admins and engineers of the team (never the requester) approve or deny it; the
 * requester's app, `cmdai approval request --wait` and approvers' apps follow it by long poll or
 * server-sent events. Requests and decisions are written as client events (`approval.request`,
 * `approval.decision`) with their audit records in one commit, so every step is audited.
 *
 * Approvals are kept in the server's database (`store.ts`), each request stored in the same
 * commit as its audit record: a restart keeps what is pending, and several instances over one
 * Postgres share them (a long poll on one instance sees a decision taken on another within
 * `POLL_MS`). Live streams and long polls are this instance's.
 */
export interface ApprovalDeps extends Omit<ExtensionDeps, 'logger'> {
  now?: () => number
}

/** The server extension (`createSyncServer({ extensions: [createApprovals] })`). */
export function createApprovals(deps: ExtensionDeps): ApprovalService {
  return new ApprovalService(deps)
}

const MAX_PENDING_PER_TEAM = 1_000
/** Long polls re-read the database this often (a decision taken on another instance). */
const POLL_MS = 2_000
/** Decided requests are listed for 90 days, then forgotten (the audit log keeps them). */
const KEEP_DECIDED_MS = 90 * 24 * 3600_000

interface Watcher {
  principal: Principal
  res: ServerResponse
}

export class ApprovalService implements HttpExtension {
  private readonly waiters = new Map<string, Set<() => void>>()
  private readonly watchers = new Set<Watcher>()
  private readonly listeners = new Set<(a: Approval) => void>()
  private readonly heartbeat: NodeJS.Timeout
  private readonly ready: Promise<void>

  constructor(private readonly deps: ApprovalDeps) {
    this.ready = ensureConsoleSchema(deps.storage)
    this.ready.catch(() => {})
    this.heartbeat = setInterval(() => {
      for (const w of this.watchers) w.res.write(': keep-alive\n\n')
      void this.expire().catch(() => {})
    }, 15_000)
    this.heartbeat.unref()
  }

  /** True when the request was for an approvals path (answered here). */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const path = url.pathname
    if (
      path !== APPROVAL_PATHS.stream &&
      path !== APPROVAL_PATHS.list &&
      !path.startsWith(APPROVAL_PATHS.list + '/')
    )
      return false
    try {
      const principal = await this.signIn(req)
      await this.expire()
      const method = req.method ?? 'GET'
      if (path === APPROVAL_PATHS.stream && method === 'GET')
        return (await this.stream(principal, req, res), true)
      if (path === APPROVAL_PATHS.list && method === 'POST')
        return (send(res, 201, await this.create(principal, req)), true)
      if (path === APPROVAL_PATHS.list && method === 'GET') {
        const status = approvalStatus(url.searchParams.get('status'))
        return (send(res, 200, { approvals: await this.list(principal, status) }), true)
      }
      const rest = path.slice(APPROVAL_PATHS.list.length + 1).split('/')
      const id = decodeURIComponent(rest[0] ?? '')
      const approval = await this.visibleApproval(principal, id)
      if (rest.length === 1 && method === 'GET') {
        const wait = Math.min(
          Math.max(Number(url.searchParams.get('wait') ?? 0) || 0, 0),
          MAX_APPROVAL_WAIT_MS,
        )
        if (approval.status === 'pending' && wait > 0) await this.waitFor(id, wait, req)
        return (send(res, 200, (await getApproval(this.deps.storage.sql, id)) ?? approval), true)
      }
      if (rest.length === 2 && rest[1] === 'decision' && method === 'POST') {
        const body = await readJson(req, this.deps.maxBodyBytes)
        return (send(res, 200, await this.decide(principal, approval.id, body)), true)
      }
      throw new ConsoleError(404, 'not_found', 'no such endpoint')
    } catch (err) {
      if (err instanceof ConsoleError)
        send(res, err.status, { code: err.code, message: err.message })
      else
        send(res, 503, {
          code: 'unavailable',
          message: 'the server could not complete the request',
        })
      return true
    }
  }

  close(): void {
    clearInterval(this.heartbeat)
    for (const w of this.watchers) w.res.end()
    this.watchers.clear()
    for (const set of this.waiters.values()) for (const wake of set) wake()
  }

  /** Called with every new or changed approval (the console's live view, webhooks). */
  onChange(listener: (a: Approval) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** What this member may see: the team's for approvers, their own otherwise (newest first). */
  async list(p: Principal, status?: ApprovalStatus): Promise<Approval[]> {
    await this.ready
    return listApprovals(this.deps.storage.sql, {
      team: p.team,
      ...(canApprove(p) ? {} : { requester: p.user }),
      ...(status ? { status } : {}),
    })
  }

  /**
   * Approves or denies a pending request as `p` (an admin or engineer of the team, never the
   * requester), with the decision and its audit record in one commit.
   */
  async decide(p: Principal, id: string, body: unknown): Promise<Approval> {
    const approval = await this.visibleApproval(p, id)
    if (!canApprove(p))
      throw new ConsoleError(403, 'forbidden', 'only admins and engineers decide approvals')
    if (approval.requester === p.user)
      throw new ConsoleError(403, 'forbidden', 'nobody approves their own request')
    const parsed = approvalDecisionSchema.safeParse(body)
    if (!parsed.success)
      throw new ConsoleError(
        400,
        'invalid_input',
        'decision: approve or deny, with an optional comment',
      )
    if (approval.status !== 'pending')
      throw new ConsoleError(409, 'conflict', `this request is already ${approval.status}`)
    const now = this.now()
    const approved = parsed.data.decision === 'approve'
    const comment = this.deps.redact(parsed.data.comment)
    let decided: Approval | null = null
    await this.deps.commit({
      run: async (tx) => {
        // Conditional: another approver (or instance) may have decided meanwhile. Nothing here
        // throws for that, so the other entries of the group commit are never refused for it.
        decided = await decideApproval(tx, id, {
          status: approved ? 'approved' : 'denied',
          by: p.user,
          at: now,
          comment,
          ...(approved ? { validUntil: now + APPROVED_VALID_MS } : {}),
        })
        if (!decided) return []
        return this.recordIn(
          tx,
          p,
          decided,
          'approval.decision',
          approved ? 'approved' : 'denied',
          comment,
        )
      },
    })
    if (!decided) {
      const current = await getApproval(this.deps.storage.sql, id)
      throw new ConsoleError(
        409,
        'conflict',
        `this request is already ${current?.status === 'pending' ? 'expired' : (current?.status ?? 'gone')}`,
      )
    }
    this.publish(decided)
    return decided
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now()
  }

  private async signIn(req: IncomingMessage): Promise<Principal> {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')
    const token = m ? m[1]! : null
    const auth = await this.deps.authenticate(
      token,
      teamOf(token),
      this.deps.clientIp(req),
      'approvals',
    )
    if (!auth.ok)
      throw new ConsoleError(
        auth.code === 4403 || auth.code === 4405 ? 403 : 401,
        'forbidden',
        auth.reason,
      )
    return auth.principal
  }

  private visible(p: Principal, a: Approval): boolean {
    return a.team === p.team && (a.requester === p.user || canApprove(p))
  }

  private async visibleApproval(p: Principal, id: string): Promise<Approval> {
    await this.ready
    const approval = id.length <= 128 ? await getApproval(this.deps.storage.sql, id) : null
    if (!approval || !this.visible(p, approval))
      throw new ConsoleError(404, 'not_found', 'no such approval')
    return approval
  }

  private async create(p: Principal, req: IncomingMessage): Promise<Approval> {
    await this.ready
    const parsed = approvalRequestSchema.safeParse(await readJson(req, this.deps.maxBodyBytes))
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      throw new ConsoleError(
        400,
        'invalid_input',
        `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`,
      )
    }
    if ((await countPending(this.deps.storage.sql, p.team)) >= MAX_PENDING_PER_TEAM)
      throw new ConsoleError(429, 'unavailable', 'too many pending approvals in this team')
    const body = parsed.data
    const now = this.now()
    const approval: Approval = {
      id: randomUUID(),
      team: p.team,
      requester: p.user,
      requesterRole: p.role,
      command: this.deps.redact(body.command),
      commandHash: createHash('sha256').update(body.command).digest('hex'),
      shell: body.shell,
      reason: this.deps.redact(body.reason),
      ...(body.library ? { library: body.library } : {}),
      ...(body.patternId ? { patternId: body.patternId } : {}),
      // Unknown until the engine has loaded: rate it as high rather than guess safe.
      risk: this.deps.assess(body.command, body.shell) ?? 'high',
      status: 'pending',
      createdAt: now,
      expiresAt: now + (body.ttlMs ?? DEFAULT_APPROVAL_TTL_MS),
    }
    await this.deps.commit({
      run: async (tx) => {
        await insertApproval(tx, approval)
        return this.recordIn(tx, p, approval, 'approval.request', 'requested', approval.reason)
      },
    })
    this.publish(approval)
    return approval
  }

  /** The client event (stored, idempotent by id) and its audit record, inside a commit. */
  private async recordIn(
    tx: SqlClient,
    p: Principal,
    a: Approval,
    kind: 'approval.request' | 'approval.decision',
    decision: 'requested' | 'approved' | 'denied',
    reason: string | undefined,
  ): Promise<AuditDraft[]> {
    const event: ClientEvent = {
      id: `${a.id}.${kind === 'approval.request' ? 'request' : 'decision'}`,
      kind,
      ts: this.now(),
      team: a.team,
      ...(a.library ? { library: a.library } : {}),
      ...(a.patternId ? { patternId: a.patternId } : {}),
      command: a.command,
      shell: a.shell,
      risk: a.risk,
      decision,
      approvalId: a.id,
      ...(reason ? { reason } : {}),
    }
    await this.deps.storage.insertEvents(
      a.team,
      [{ id: event.id, user: p.user, kind, ts: event.ts, event: JSON.stringify(event) }],
      tx,
    )
    const { team, ...data } = event
    return [
      {
        team,
        kind: 'client.event',
        actor: p.user,
        role: p.role,
        ...(a.library ? { room: `${team}/${a.library}` } : {}),
        data: { ...data, requester: a.requester },
      },
    ]
  }

  private async expire(): Promise<void> {
    await this.ready
    const now = this.now()
    for (const a of await expireApprovals(this.deps.storage.sql, now)) this.publish(a)
    await purgeApprovals(this.deps.storage.sql, now - KEEP_DECIDED_MS)
  }

  private waitFor(id: string, ms: number, req: IncomingMessage): Promise<void> {
    return new Promise((resolve) => {
      const set = this.waiters.get(id) ?? new Set()
      this.waiters.set(id, set)
      const done = () => {
        clearTimeout(timer)
        clearInterval(poll)
        set.delete(done)
        req.off('close', done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      // Another instance may decide it: look in the database now and then.
      const poll = setInterval(() => {
        getApproval(this.deps.storage.sql, id).then(
          (a) => a?.status !== 'pending' && done(),
          () => {},
        )
      }, POLL_MS)
      set.add(done)
      req.on('close', done)
    })
  }

  private publish(a: Approval): void {
    for (const wake of this.waiters.get(a.id) ?? []) wake()
    if (a.status !== 'pending') this.waiters.delete(a.id)
    const line = `event: approval\ndata: ${JSON.stringify(a)}\n\n`
    for (const w of this.watchers) if (this.visible(w.principal, a)) w.res.write(line)
    for (const listener of this.listeners) {
      try {
        listener(a)
      } catch {
        // A listener's failure is its own.
      }
    }
  }

  private async stream(
    principal: Principal,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const pending = await this.list(principal, 'pending')
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      connection: 'keep-alive',
    })
    res.write(': connected\n\n')
    const watcher = { principal, res }
    this.watchers.add(watcher)
    req.on('close', () => this.watchers.delete(watcher))
    // What is pending now, so a new watcher starts complete.
    for (const a of pending) res.write(`event: approval\ndata: ${JSON.stringify(a)}\n\n`)
  }
}

function approvalStatus(v: string | null): ApprovalStatus | undefined {
  return (APPROVAL_STATUSES as readonly string[]).includes(v ?? '')
    ? (v as ApprovalStatus)
    : undefined
}

export function canApprove(p: Pick<Principal, 'role'>): boolean {
  return roleAtLeast(p.role, 'engineer')
}

/** The team a token claims (verified by `authenticate` right after). */
function teamOf(token: string | null): string {
  const part = token?.split('.')[1]
  if (!part) return ''
  try {
    const claims = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as { team?: unknown }
    return typeof claims.team === 'string' ? claims.team : ''
  } catch {
    return ''
  }
}
