import { createHmac } from 'node:crypto'
import type { WebhookEvent } from '../../../contract/console'

/** What happened, in words and fields, before it is shaped for Slack or as generic JSON. */
export interface Notice {
  event: WebhookEvent
  team: string
  /** One line, e.g. "ana asks to run a high-risk command". */
  title: string
  /** A command (redacted), shown as code. */
  command?: string
  /** Short labelled facts (risk, reason, who decided...). */
  fields: Array<[string, string]>
  /** Where to act on it in the console (a signed link for approvals). */
  link?: { label: string; url: string }
  /** Machine-readable details for generic receivers. */
  data: Record<string, unknown>
}

const HEADERS: Record<WebhookEvent, string> = {
  'approval.requested': 'Approval requested',
  'approval.decided': 'Approval decided',
  'command.blocked': 'Critical command blocked',
  'policy.changed': 'Team policy changed',
  'audit.verify-failed': 'Audit log verification failed',
}

/** Slack's mrkdwn: &, < and > are control characters; escape them. */
const mrkdwn = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const clip = (text: string, max: number) =>
  text.length > max ? text.slice(0, max - 1) + '…' : text

/**
 * A Slack incoming-webhook message (`text` as the notification fallback, `blocks` for the
 * layout). It carries no secret: acting on it needs a console session, reached through the link.
 */
export function slackPayload(n: Notice): Record<string, unknown> {
  const blocks: Array<Record<string, unknown>> = [
    {
      type: 'header',
      text: { type: 'plain_text', text: clip(`${HEADERS[n.event]} · ${n.team}`, 150) },
    },
    { type: 'section', text: { type: 'mrkdwn', text: clip(mrkdwn(n.title), 3_000) } },
  ]
  if (n.command)
    blocks.push({
      type: 'section',
      // A backtick in the command would end the code block early.
      text: {
        type: 'mrkdwn',
        text: clip('```' + mrkdwn(n.command.replace(/`/g, 'ˋ')) + '```', 3_000),
      },
    })
  if (n.fields.length > 0)
    blocks.push({
      type: 'section',
      fields: n.fields
        .slice(0, 10)
        .map(([k, v]) => ({ type: 'mrkdwn', text: clip(`*${mrkdwn(k)}*\n${mrkdwn(v)}`, 2_000) })),
    })
  if (n.link)
    blocks.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: clip(n.link.label, 75) },
          url: n.link.url,
        },
      ],
    })
  return { text: clip(`${HEADERS[n.event]} (${n.team}): ${n.title}`, 3_000), blocks }
}

/** The generic JSON body. */
export function jsonPayload(n: Notice, deliveryId: string, at: number): Record<string, unknown> {
  return {
    id: deliveryId,
    event: n.event,
    team: n.team,
    ts: new Date(at).toISOString(),
    title: n.title,
    ...(n.command !== undefined ? { command: n.command } : {}),
    data: n.data,
    ...(n.link ? { link: n.link.url } : {}),
  }
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (see `WEBHOOK_HEADERS`). */
export function signBody(secret: string, body: string, atMs: number): string {
  const t = Math.floor(atMs / 1000)
  const mac = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')
  return `t=${t},v1=${mac}`
}

/** Signed console links: an HMAC over the path and expiry, checked before the console opens it. */
export function signLink(key: Buffer, path: string, exp: number): string {
  return createHmac('sha256', key).update(`${path}\n${exp}`).digest('base64url')
}
