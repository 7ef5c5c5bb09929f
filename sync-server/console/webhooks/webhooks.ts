import { randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import {
  WEBHOOK_HEADERS,
  type DeliveryStatus,
  type DeliveryView,
  type WebhookEvent,
  type WebhookView,
} from '../../../contract/console'
import type { SqlClient } from '../../storage/sql-client'
import type { Storage } from '../../storage/storage'
import { jsonPayload, signBody, slackPayload, type Notice } from './payloads'

/**
 * Team webhooks: each notice becomes one delivery row per subscribed webhook (so a restart or a
 * crash loses nothing queued), sent by a worker that claims due rows, POSTs the Slack-shaped or
 * generic JSON body signed with HMAC-SHA256, and retries failures with growing delays until it
 * gives up; every attempt's outcome is kept for the console's delivery log.
 */
export interface WebhookOptions {
  /** Delay before each retry; the delivery fails after the last. */
  retryDelaysMs?: number[]
  /** How often the worker looks for due deliveries. */
  pollMs?: number
  /** Per attempt. */
  timeoutMs?: number
}

export const DEFAULT_RETRY_DELAYS_MS = [10_000, 60_000, 5 * 60_000, 30 * 60_000, 2 * 3600_000]
const BATCH = 20

type Row = Record<string, unknown>

function toWebhook(r: Row, last: Row | undefined): WebhookView {
  return {
    id: String(r.id),
    url: maskUrl(String(r.url)),
    format: String(r.format) as WebhookView['format'],
    events: JSON.parse(String(r.events)) as WebhookEvent[],
    enabled: Boolean(r.enabled),
    description: String(r.description),
    createdBy: String(r.created_by),
    createdAt: Number(r.created_at),
    lastDelivery: last
      ? { status: String(last.status) as DeliveryStatus, at: Number(last.created_at) }
      : null,
  }
}

function toDelivery(r: Row): DeliveryView {
  const n = (v: unknown) => (v === null || v === undefined ? null : Number(v))
  return {
    id: String(r.id),
    webhookId: String(r.webhook_id),
    event: String(r.event) as WebhookEvent,
    status: String(r.status) as DeliveryStatus,
    attempts: Number(r.attempts),
    createdAt: Number(r.created_at),
    nextAttemptAt: r.status === 'pending' ? n(r.next_attempt_at) : null,
    deliveredAt: n(r.delivered_at),
    lastStatus: n(r.last_status),
    lastError: r.last_error === null ? null : String(r.last_error),
    payload: String(r.payload),
  }
}

const id = () => randomBytes(9).toString('base64url')

/** Webhook URLs are credentials (Slack's are): shown as host and the last characters only. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url)
    const rest = u.pathname + u.search
    return `${u.protocol}//${u.host}${rest.length > 1 ? `/…${rest.slice(-4)}` : rest}`
  } catch {
    return '(invalid URL)'
  }
}

export class Webhooks {
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null
  private readonly delays: number[]
  private readonly timeoutMs: number
  private readonly pollMs: number
  private stopped = false

  constructor(
    private readonly storage: Storage,
    private readonly logger: Logger,
    private readonly now: () => number,
    options: WebhookOptions = {},
  ) {
    this.delays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS
    this.timeoutMs = options.timeoutMs ?? 10_000
    this.pollMs = options.pollMs ?? 1_000
  }

  start(): void {
    this.timer = setInterval(() => this.kick(), this.pollMs)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    await this.running
  }

  async list(team: string): Promise<WebhookView[]> {
    const r = await this.storage.sql.query<Row>(
      'SELECT * FROM console_webhooks WHERE team = $1 ORDER BY created_at, id',
      [team],
    )
    const last = await this.storage.sql.query<Row>(
      `SELECT DISTINCT ON (webhook_id) webhook_id, status, created_at FROM console_deliveries
       WHERE team = $1 ORDER BY webhook_id, created_at DESC`,
      [team],
    )
    const byHook = new Map(last.rows.map((row) => [String(row.webhook_id), row]))
    return r.rows.map((row) => toWebhook(row, byHook.get(String(row.id))))
  }

  async get(team: string, hookId: string): Promise<WebhookView | null> {
    return (await this.list(team)).find((w) => w.id === hookId) ?? null
  }

  async create(
    tx: SqlClient,
    team: string,
    by: string,
    input: {
      url: string
      format: WebhookView['format']
      events: WebhookEvent[]
      enabled: boolean
      description: string
    },
  ): Promise<{ id: string; secret: string }> {
    const hook = { id: id(), secret: randomBytes(32).toString('base64url') }
    await tx.query(
      `INSERT INTO console_webhooks (id, team, url, format, events, enabled, description, secret, created_by, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        hook.id,
        team,
        input.url,
        input.format,
        JSON.stringify([...new Set(input.events)]),
        input.enabled,
        input.description,
        hook.secret,
        by,
        this.now(),
      ],
    )
    return hook
  }

  /** Applies changes; returns the new secret when rotated, false when there is no such hook. */
  async update(
    tx: SqlClient,
    team: string,
    hookId: string,
    input: {
      url?: string
      events?: WebhookEvent[]
      enabled?: boolean
      description?: string
      rotateSecret?: boolean
    },
  ): Promise<{ secret: string | null } | false> {
    const secret = input.rotateSecret ? randomBytes(32).toString('base64url') : null
    const r = await tx.query(
      `UPDATE console_webhooks SET url = coalesce($3, url), events = coalesce($4, events),
         enabled = coalesce($5, enabled), description = coalesce($6, description),
         secret = coalesce($7, secret)
       WHERE team = $1 AND id = $2 RETURNING id`,
      [
        team,
        hookId,
        input.url ?? null,
        input.events ? JSON.stringify([...new Set(input.events)]) : null,
        input.enabled ?? null,
        input.description ?? null,
        secret,
      ],
    )
    return r.rows.length === 1 ? { secret } : false
  }

  async remove(tx: SqlClient, team: string, hookId: string): Promise<boolean> {
    const r = await tx.query(
      'DELETE FROM console_webhooks WHERE team = $1 AND id = $2 RETURNING id',
      [team, hookId],
    )
    // Nothing more goes out for it; its log stays.
    await tx.query(
      `UPDATE console_deliveries SET status = 'failed', last_error = 'webhook removed'
       WHERE webhook_id = $1 AND status = 'pending'`,
      [hookId],
    )
    return r.rows.length === 1
  }

  async deliveries(team: string, hookId?: string, limit = 200): Promise<DeliveryView[]> {
    const r = await this.storage.sql.query<Row>(
      `SELECT * FROM console_deliveries WHERE team = $1 AND ($2::text IS NULL OR webhook_id = $2)
       ORDER BY created_at DESC, id LIMIT $3`,
      [team, hookId ?? null, limit],
    )
    return r.rows.map(toDelivery)
  }

  /**
   * Queues a notice for every enabled webhook of the team subscribed to its event (or only
   * `onlyHook`, a test delivery); returns the delivery ids.
   */
  async notify(notice: Notice, onlyHook?: string): Promise<string[]> {
    const hooks = await this.storage.sql.query<Row>(
      'SELECT * FROM console_webhooks WHERE team = $1 AND ($2::text IS NULL OR id = $2)',
      [notice.team, onlyHook ?? null],
    )
    const now = this.now()
    const ids: string[] = []
    for (const h of hooks.rows) {
      const events = JSON.parse(String(h.events)) as string[]
      if (!onlyHook && (!h.enabled || !events.includes(notice.event))) continue
      const deliveryId = id()
      const body =
        h.format === 'slack' ? slackPayload(notice) : jsonPayload(notice, deliveryId, now)
      await this.storage.sql.query(
        `INSERT INTO console_deliveries (id, team, webhook_id, event, payload, status, attempts, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6)`,
        [deliveryId, notice.team, h.id, notice.event, JSON.stringify(body), now],
      )
      ids.push(deliveryId)
    }
    if (ids.length > 0) this.kick()
    return ids
  }

  /** Sends what is due now (also run by the timer). */
  kick(): void {
    if (this.stopped || this.running) return
    this.running = this.drain()
      .catch((err: unknown) =>
        this.logger.warn({ err: (err as Error).message }, 'webhook delivery round failed'),
      )
      .finally(() => {
        this.running = null
      })
  }

  private async drain(): Promise<void> {
    for (;;) {
      const now = this.now()
      // Claimed with a lease: a crash mid-send leaves the row due again after it.
      const claimed = await this.storage.sql.query<Row>(
        `UPDATE console_deliveries d SET next_attempt_at = $2
         FROM console_webhooks w
         WHERE d.webhook_id = w.id AND d.id IN (
           SELECT id FROM console_deliveries WHERE status = 'pending' AND next_attempt_at <= $1
           ORDER BY next_attempt_at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED)
         RETURNING d.*, w.url AS hook_url, w.secret AS hook_secret`,
        [now, now + this.timeoutMs + 30_000],
      )
      if (claimed.rows.length === 0) return
      await Promise.all(claimed.rows.map((row) => this.attempt(row)))
      if (this.stopped) return
    }
  }

  private async attempt(row: Row): Promise<void> {
    const body = String(row.payload)
    const at = this.now()
    let status: number | null = null
    let error: string | null = null
    try {
      const res = await fetch(String(row.hook_url), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'cmdai-sync-webhooks',
          [WEBHOOK_HEADERS.signature]: signBody(String(row.hook_secret), body, at),
          [WEBHOOK_HEADERS.event]: String(row.event),
          [WEBHOOK_HEADERS.delivery]: String(row.id),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      })
      status = res.status
      await res.body?.cancel().catch(() => {})
      if (status < 200 || status >= 300) error = `HTTP ${status}`
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } }
      error = e.name === 'TimeoutError' ? 'timed out' : (e.cause?.code ?? e.message).slice(0, 200)
    }
    const attempts = Number(row.attempts) + 1
    if (!error) {
      await this.storage.sql.query(
        `UPDATE console_deliveries SET status = 'delivered', attempts = $2, delivered_at = $3,
           last_status = $4, last_error = NULL, next_attempt_at = NULL WHERE id = $1`,
        [row.id, attempts, this.now(), status],
      )
      return
    }
    const delay = this.delays[attempts - 1]
    await this.storage.sql.query(
      `UPDATE console_deliveries SET status = $2, attempts = $3, next_attempt_at = $4,
         last_status = $5, last_error = $6 WHERE id = $1`,
      [
        row.id,
        delay === undefined ? 'failed' : 'pending',
        attempts,
        delay === undefined ? null : this.now() + delay,
        status,
        error,
      ],
    )
  }
}
