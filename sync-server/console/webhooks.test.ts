import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { APPROVAL_PATHS, type Approval } from '../../contract/approvals'
import { WEBHOOK_HEADERS, type DeliveryView, type WebhookCreated } from '../../contract/console'
import { HTTP_PATHS } from '../../contract/sync'
import { initSafety } from '../../main/safety/analyze'
import { freshDataDir, tempRoot, waitUntil } from '../testing/harness'
import { startConsoleServer, type ConsoleClient, type ConsoleTestServer } from './testing'

vi.setConfig({ testTimeout: 60_000, hookTimeout: 120_000 })

/**
 * Webhooks delivered to a real loopback receiver: the HMAC-SHA256 signature verifies, a failure is
 * retried with backoff and logged, Slack messages carry only a signed link back to the console.
 */
interface Received {
  path: string
  headers: IncomingHttpHeaders
  body: string
  answered: number
}

const tmp = tempRoot('cmdai-console-hooks-')
let srv: ConsoleTestServer
let admin: ConsoleClient
let receiver: Server
let receiverUrl = ''
const received: Received[] = []
/** Status codes the receiver answers with per path, in order (then 200). */
const script = new Map<string, number[]>()

beforeAll(async () => {
  await initSafety()
  receiver = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (c: string) => (body += c))
    req.on('end', () => {
      const answered = script.get(req.url ?? '')?.shift() ?? 200
      received.push({ path: req.url ?? '', headers: req.headers, body, answered })
      res.writeHead(answered).end()
    })
  })
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()))
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`
  srv = await startConsoleServer({
    dir: await freshDataDir(tmp.root, 'hooks'),
    console: {
      webhooks: { retryDelaysMs: [100, 200], pollMs: 50, timeoutMs: 2_000 },
      publicUrl: 'https://sync.example.com',
    },
  })
  admin = await srv.signIn('acme', 'ada', 'admin')
})

afterAll(async () => {
  await srv?.close()
  await new Promise((r) => receiver?.close(r))
  tmp.cleanup()
})

function verify(secret: string, r: Received): boolean {
  const header = String(r.headers[WEBHOOK_HEADERS.signature] ?? '')
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header)
  if (!m) return false
  const expected = createHmac('sha256', secret).update(`${m[1]}.${r.body}`).digest()
  return (
    timingSafeEqual(expected, Buffer.from(m[2]!, 'hex')) &&
    Math.abs(Date.now() / 1000 - Number(m[1])) < 300
  )
}

async function hook(
  path: string,
  format: 'json' | 'slack',
  events: string[],
): Promise<WebhookCreated> {
  const res = await admin.post('/webhooks', { url: `${receiverUrl}${path}`, format, events })
  expect(res.status).toBe(200)
  return res.json as WebhookCreated
}

const deliveries = async (id: string) =>
  ((await admin.get(`/webhooks/deliveries?webhook=${id}`)).json as { deliveries: DeliveryView[] })
    .deliveries

describe('webhooks', () => {
  let json: WebhookCreated
  let slack: WebhookCreated
  let approval: Approval

  it('delivers an approval request, signed, retrying once after the receiver fails', async () => {
    json = await hook('/generic', 'json', [
      'approval.requested',
      'approval.decided',
      'command.blocked',
      'policy.changed',
    ])
    slack = await hook('/slack', 'slack', ['approval.requested'])
    expect(json.secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
    // The list never shows the full URL again (a Slack URL is a credential).
    const listed = (await admin.get('/webhooks')).json as { webhooks: Array<{ url: string }> }
    expect(listed.webhooks.map((w) => w.url)).toEqual([
      `${receiverUrl}/…eric`,
      `${receiverUrl}/…lack`,
    ])

    script.set('/generic', [500])
    const jun = await srv.token('acme', 'jun', 'junior')
    const res = await fetch(`${srv.base}${APPROVAL_PATHS.list}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${jun}`, 'content-type': 'application/json' },
      body: JSON.stringify({ command: 'kubectl delete pod web-1 -n prod', reason: 'stuck pod' }),
    })
    expect(res.status).toBe(201)
    approval = (await res.json()) as Approval
    await waitUntil('generic delivered after a retry', () =>
      received.some((r) => r.path === '/generic' && r.answered === 200),
    )
    const generic = received.filter((r) => r.path === '/generic')
    expect(generic.map((r) => r.answered)).toEqual([500, 200])
    for (const r of generic) {
      expect(verify(json.secret, r)).toBe(true)
      expect(verify(slack.secret, r)).toBe(false)
      expect(r.headers[WEBHOOK_HEADERS.event]).toBe('approval.requested')
      expect(r.headers['content-type']).toBe('application/json')
    }
    const body = JSON.parse(generic[1]!.body) as Record<string, unknown>
    expect(body).toMatchObject({
      event: 'approval.requested',
      team: 'acme',
      command: 'kubectl delete pod web-1 -n prod',
      data: { approval: approval.id, requester: 'jun' },
    })
    // The same delivery id on both attempts.
    expect(generic[0]!.headers[WEBHOOK_HEADERS.delivery]).toBe(
      generic[1]!.headers[WEBHOOK_HEADERS.delivery],
    )
    await expect.poll(async () => (await deliveries(json.webhook.id))[0]?.status).toBe('delivered')
    const log = await deliveries(json.webhook.id)
    expect(log[0]).toMatchObject({
      status: 'delivered',
      attempts: 2,
      lastStatus: 200,
      lastError: null,
    })
  })

  it('sends Slack a block message with only a signed link back to the console', async () => {
    await waitUntil('slack delivered', () => received.some((r) => r.path === '/slack'))
    const r = received.find((x) => x.path === '/slack')!
    expect(verify(slack.secret, r)).toBe(true)
    const msg = JSON.parse(r.body) as { text: string; blocks: Array<Record<string, unknown>> }
    expect(msg.text).toContain('jun asks to run')
    expect(msg.blocks[0]).toMatchObject({ type: 'header' })
    const actions = msg.blocks.find((b) => b.type === 'actions') as {
      elements: Array<{ url: string }>
    }
    const url = new URL(actions.elements[0]!.url)
    expect(url.origin).toBe('https://sync.example.com')
    expect(url.pathname).toBe(`/admin/approve/${approval.id}`)
    // No secret in the message: not the webhook's, not a token, not a sign-in code.
    expect(r.body).not.toContain(slack.secret)
    expect(r.body).not.toContain(json.secret)
    expect(r.body).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./)
    expect(r.body).not.toContain('signin')
    // The link leads into the console (which still needs a session to decide) ...
    const follow = await fetch(`${srv.base}${url.pathname}${url.search}`, { redirect: 'manual' })
    expect(follow.status).toBe(303)
    expect(follow.headers.get('location')).toBe(`/admin/#/approvals/${approval.id}`)
    // ... and a link with another id, a later expiry or a changed signature does not.
    for (const bad of [
      `${url.pathname}x${url.search}`,
      `${url.pathname}?exp=${Number(url.searchParams.get('exp')) + 1}&sig=${url.searchParams.get('sig')}`,
      `${url.pathname}?exp=${url.searchParams.get('exp')}&sig=AAAA`,
    ]) {
      const res = await fetch(`${srv.base}${bad}`, { redirect: 'manual' })
      expect(res.status).toBe(404)
    }
  })

  it('notifies a decision taken in the console, a critical command blocked and a policy change', async () => {
    const decided = await admin.post(`/approvals/${approval.id}/decision`, {
      decision: 'deny',
      comment: 'not during the freeze',
    })
    expect(decided.status).toBe(200)
    expect(decided.json).toMatchObject({ status: 'denied', decidedBy: 'ada' })
    const bob = await srv.token('acme', 'bob', 'engineer')
    await fetch(`${srv.base}${HTTP_PATHS.events}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bob}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        events: [
          {
            id: 'blocked-critical-1',
            kind: 'policy.decision',
            ts: Date.now(),
            team: 'acme',
            command: 'rm -rf --no-preserve-root /',
            risk: 'critical',
            decision: 'blocked',
          },
        ],
      }),
    })
    const saved = await admin.post('/policy', {
      policy: {
        version: 1,
        rules: [{ id: 'no-prod-deletes', effect: 'block', match: { tag: 'production' } }],
      },
    })
    expect(saved.status).toBe(200)
    const events = () =>
      received.filter((r) => r.path === '/generic').map((r) => r.headers[WEBHOOK_HEADERS.event])
    await waitUntil('three more notices', () =>
      ['approval.decided', 'command.blocked', 'policy.changed'].every((e) => events().includes(e)),
    )
    const of = (e: string) =>
      JSON.parse(received.find((r) => r.headers[WEBHOOK_HEADERS.event] === e)!.body) as {
        title: string
        data: Record<string, unknown>
      }
    expect(of('approval.decided').title).toBe("ada denied jun's request")
    expect(of('command.blocked').title).toContain('bob')
    expect(of('policy.changed').title).toContain(
      'ada changed the team policy: added no-prod-deletes',
    )
    for (const r of received.filter((x) => x.path === '/generic'))
      expect(verify(json.secret, r)).toBe(true)
  })

  it('gives up after the last retry against a dead receiver and says why', async () => {
    const dead = await admin.post('/webhooks', {
      url: 'http://127.0.0.1:9/nothing-listens',
      format: 'json',
      events: ['policy.changed'],
    })
    const id = (dead.json as WebhookCreated).webhook.id
    const test = await admin.post(`/webhooks/${id}/test`, {})
    expect(test.status).toBe(200)
    await expect
      .poll(async () => (await deliveries(id))[0]?.status, { timeout: 10_000 })
      .toBe('failed')
    const [d] = await deliveries(id)
    expect(d!.attempts).toBe(3)
    expect(d!.lastError).toMatch(/ECONNREFUSED|fetch failed/)
  })

  it('refuses URLs that are not http(s) or carry credentials, and audits every change', async () => {
    for (const url of ['ftp://x.example/a', 'javascript:alert(1)', 'http://user:pw@x.example/'])
      expect(
        (await admin.post('/webhooks', { url, format: 'json', events: ['policy.changed'] })).status,
      ).toBe(400)
    const rotated = await admin.post(`/webhooks/${json.webhook.id}`, {
      rotateSecret: true,
      enabled: false,
    })
    expect((rotated.json as { secret: string }).secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect((await admin.post(`/webhooks/${slack.webhook.id}/delete`, {})).status).toBe(200)
    expect((await admin.post(`/webhooks/${slack.webhook.id}/delete`, {})).status).toBe(404)
    const page = await admin.get('/audit?kind=webhook.change')
    const actions = (page.json as { records: Array<{ data: { action: string } }> }).records.map(
      (r) => r.data.action,
    )
    expect(actions).toEqual(['delete', 'update', 'create', 'create', 'create'])
    // The audit keeps the host only, never the webhook URL's secret part.
    expect(page.text).not.toContain('/generic')
  })
})
