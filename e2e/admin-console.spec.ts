import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { expect, test, type Page } from '@playwright/test'
import { HTTP_PATHS, type ClientEvent } from '../contract/sync'
import { startTeamServer, type TeamServer } from '../main/library/testing/team-server'
import { ELECTRON, axeProblems, shot, startServe, stopServe, type ServedApp } from './fixtures'

/**
 * The admin console against a real `cmdai-sync` and a real app (`cmdai serve`): the admin signs
 * in with the link `cmdai-sync admin-url` prints, invites a member whose app joins with the
 * invite's token, changes the policy and sees it reach that app, approves a request raised from
 * the app, reads analytics and webhook deliveries, verifies and exports the audit log. Every page
 * is checked with axe-core (WCAG 2.1 AA) under the console's own CSP, in light and dark.
 */
test.skip(ELECTRON, 'a sync server, its console and an app in browser mode')
test.describe.configure({ timeout: 480_000 })

let server: TeamServer
let ben: ServedApp
let receiver: Server
const hooks: Array<{ event: string; body: string }> = []

test.beforeAll(async () => {
  test.setTimeout(300_000)
  server = await startTeamServer()
  ben = await startServe()
  receiver = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      hooks.push({ event: String(req.headers['x-cmdai-event']), body })
      res.writeHead(200).end()
    })
  })
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()))
})

test.afterAll(async () => {
  await (ben && stopServe(ben))
  await server?.stop()
  await new Promise((r) => receiver?.close(r))
})

async function page(name: string, p: Page, ready: () => Promise<void>): Promise<void> {
  await p.getByRole('link', { name, exact: true }).click()
  await expect(p.getByRole('heading', { level: 1 })).toBeVisible()
  await ready()
  expect(await axeProblems(p), `axe on ${name}`).toEqual([])
}

async function openApp(p: Page): Promise<void> {
  await p.goto(ben.url)
  await expect(p.locator('.terminal-pane:not([hidden]) .xterm')).toBeVisible()
  await expect(p.getByTestId('status-shell')).toContainText('bash', { timeout: 30_000 })
}

async function postEvents(token: string, events: ClientEvent[]): Promise<void> {
  const res = await fetch(`${server.url}${HTTP_PATHS.events}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ events }),
  })
  expect(res.status).toBe(200)
}

test('an admin runs the team from the console', async ({ browser }) => {
  // The admin exists (as on a new server) and asks for a sign-in link on the command line.
  server.token('acme', 'ada', 'admin')
  const link = server
    .cli(['admin-url', '--team', 'acme', '--user', 'ada'])
    .trim()
    .split('\n')
    .pop()!
  expect(link).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/admin/signin\\?code=`))

  const ctx = await browser.newContext({
    viewport: { width: 1280, height: 820 },
    colorScheme: 'light',
  })
  const admin = await ctx.newPage()
  const cspErrors: string[] = []
  admin.on('console', (m) => {
    if (/Content Security Policy|Refused to/.test(m.text())) cspErrors.push(m.text())
  })
  await admin.goto(link)
  // The code is traded for the cookie and leaves the address bar (a busy machine: be patient).
  await expect(admin.getByText('team acme')).toBeVisible({ timeout: 30_000 })
  await expect(admin).toHaveURL(`${server.url}/admin/`)
  const cookies = await ctx.cookies()
  expect(cookies.find((c) => c.name === 'cmdai_console')).toMatchObject({
    httpOnly: true,
    sameSite: 'Strict',
  })
  // The link works once.
  const again = await (await browser.newContext()).newPage()
  await again.goto(link)
  await expect(
    again.getByRole('heading', { name: 'This sign-in link does not work' }),
  ).toBeVisible()

  // Members: invite an engineer.
  await page('Members', admin, async () => {
    await expect(admin.getByTestId('members-table')).toContainText('ada')
  })
  const invite = admin.getByTestId('invite-form')
  await invite.getByLabel('Role').selectOption('engineer')
  await invite.getByLabel('Note (optional)').fill('for ben')
  await invite.getByRole('button', { name: 'Create invite link' }).click()
  const inviteLink = (await admin.getByTestId('invite-link').locator('code').innerText()).trim()
  expect(inviteLink).toContain('/admin/#/join/')
  await shot(admin, 'console-members')

  // The invitee opens the link in their own browser and gets a token for the app.
  const invitee = await (
    await browser.newContext({ viewport: { width: 1100, height: 700 } })
  ).newPage()
  await invitee.goto(inviteLink)
  await invitee.getByLabel('Your user id').fill('ben')
  await invitee.getByRole('button', { name: 'Join' }).click()
  const token = (await invitee.getByTestId('join-token').innerText()).trim()
  expect(token).toMatch(/^eyJ/)
  await expect(invitee.getByTestId('join-server')).toHaveText(server.url)
  expect(await axeProblems(invitee)).toEqual([])
  await shot(invitee, 'console-join')

  // Ben's app joins the team library with that token.
  const app = await (await browser.newContext({ viewport: { width: 1200, height: 760 } })).newPage()
  await openApp(app)
  await app.getByTestId('status-sync').click()
  await app.getByRole('button', { name: '+ Join a team library' }).click()
  const form = app.getByTestId('join-form')
  await form.getByLabel('Team server').fill(server.url)
  await form.getByLabel(/Your token/).fill(token)
  await form.getByLabel('Library').fill('deploy')
  await form.getByRole('button', { name: 'Join' }).click()
  await expect(app.getByTestId('library-banner')).toContainText('synced', { timeout: 30_000 })
  await app.getByRole('button', { name: 'New pattern' }).click()
  const editor = app.getByTestId('pattern-editor')
  await editor.getByLabel('Title').fill('Announce a deploy')
  await editor.getByLabel(/^Command/).fill('echo deploying {{version}} to prod')
  await editor.getByLabel(/^Tags/).fill('production')
  await editor.getByRole('button', { name: /Save/ }).click()
  await expect(app.getByTestId('pattern-list')).toContainText('Announce a deploy')

  // Tokens & sessions: ben's live connection.
  await page('Tokens & sessions', admin, async () => {
    await expect(admin.getByTestId('connections')).toContainText('ben')
  })
  await shot(admin, 'console-access')

  // Libraries: the pattern with its verdict.
  await page('Libraries', admin, async () => {
    await expect(admin.getByTestId('libraries')).toContainText('deploy')
  })
  await admin.getByRole('link', { name: 'deploy' }).click()
  await expect(admin.getByTestId('patterns')).toContainText('echo deploying {{version}} to prod')
  expect(await axeProblems(admin)).toEqual([])
  await shot(admin, 'console-libraries')

  // Policy: production patterns need an approval; try a command per role; save.
  await page('Policy', admin, async () => {
    await expect(admin.getByRole('button', { name: 'Add a rule' })).toBeVisible()
  })
  await admin.getByRole('button', { name: 'Add a rule' }).click()
  const rule = admin.getByTestId('rules').getByRole('group', { name: 'Rule 1' })
  await rule.getByLabel('Id').fill('prod-needs-approval')
  await rule.getByLabel('Reason shown to members').fill('production needs a second pair of eyes')
  await admin.getByLabel('Level for junior').selectOption('strict')
  await admin.getByLabel('Command', { exact: true }).fill('echo deploying 1.2 to prod')
  await admin.getByLabel('Pattern tags').fill('production')
  await admin.getByRole('button', { name: 'Check' }).click()
  await expect(admin.getByTestId('try-result')).toContainText('prod-needs-approval')
  await expect(admin.getByTestId('try-result')).toContainText('needs approval')
  await admin.getByRole('button', { name: 'Save policy' }).click()
  await expect(admin.getByText('Saved: members’ apps have the new policy')).toBeVisible({
    timeout: 30_000,
  })
  expect(await axeProblems(admin)).toEqual([])
  await shot(admin, 'console-policy')

  // The policy reaches ben's app: the production pattern now needs an approval, naming the rule.
  const list = app.getByTestId('pattern-list')
  await list.getByText('Announce a deploy').click()
  await app.getByTestId('pattern-detail').getByRole('button', { name: 'Fill in and run' }).click()
  await app
    .getByTestId('param-form')
    .getByLabel(/version/)
    .fill('1.2')
  await expect(app.getByTestId('param-decision')).toContainText('prod-needs-approval', {
    timeout: 30_000,
  })

  // A webhook (generic JSON) to a loopback receiver, before the approval is asked.
  await page('Webhooks', admin, async () => {
    await expect(admin.getByTestId('webhook-form')).toBeVisible()
  })
  const hookForm = admin.getByTestId('webhook-form')
  await hookForm
    .getByLabel('URL')
    .fill(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/cmdai`)
  await hookForm.getByLabel(/Generic JSON/).check()
  await hookForm.getByLabel('an approval is decided').check()
  await hookForm.getByRole('button', { name: 'Add webhook' }).click()
  await expect(admin.getByText('Signing secret (shown once)')).toBeVisible()

  // Ben asks for an approval in his app; it appears live in the console, and ada approves it.
  await app.getByTestId('param-form').getByRole('button', { name: 'Ask for approval' }).click()
  await app.getByLabel(/Why does this need to run/).fill('release 1.2 announcement')
  await app.getByRole('button', { name: 'Request approval' }).click()
  await expect(app.getByTestId('approval-state')).toContainText('waiting for an approver')
  await page('Approvals', admin, async () => {
    await expect(
      admin.getByTestId('approval').filter({ hasText: 'release 1.2 announcement' }),
    ).toBeVisible({
      timeout: 20_000,
    })
  })
  const item = admin.getByTestId('approval').filter({ hasText: 'release 1.2 announcement' })
  await item.getByLabel('Comment for ben').fill('go ahead')
  await shot(admin, 'console-approvals')
  await item.getByRole('button', { name: 'Approve' }).click()
  await expect(admin.getByTestId('approval-history')).toContainText('go ahead')
  await expect(app.getByTestId('approval-state')).toContainText('Approved by ada: go ahead', {
    timeout: 30_000,
  })
  // Ben runs exactly the approved command: the run is reported to the team (and shown in his app).
  await app.getByTestId('param-form').getByRole('button', { name: /^Run/ }).click()
  await expect(app.getByTestId('library-panel')).toBeHidden()
  await expect.poll(() => hooks.map((h) => h.event)).toContain('approval.decided')
  await page('Webhooks', admin, async () => {
    await expect(admin.getByTestId('deliveries')).toContainText('delivered')
  })
  await shot(admin, 'console-webhooks')

  // Analytics, from client events members' apps sent (two weeks of them, posted as apps do).
  const tokens: Record<string, string> = {
    ben: token,
    cy: server.token('acme', 'cy', 'engineer'),
    dee: server.token('acme', 'dee', 'junior'),
  }
  const decisions = ['ran', 'ran', 'ran', 'edited', 'copied', 'cancelled', 'blocked'] as const
  const models = ['qwen2.5-coder-1.5b', 'qwen2.5-coder-0.5b']
  let n = 0
  for (const [user, t] of Object.entries(tokens)) {
    const events: ClientEvent[] = []
    for (let d = 0; d < 14; d++)
      for (let k = 0; k < 5 + ((d * 7 + user.length) % 6); k++) {
        n++
        const ts = Date.now() - d * 86_400_000 - k * 60_000
        events.push({
          id: `e2e-${user}-${n}-${d}-${k}`,
          kind: 'ai.decision',
          ts,
          team: 'acme',
          decision: decisions[(n + d) % decisions.length]!,
          model: models[n % 2]!,
          latencyMs: 180 + ((n * 137) % 2400),
          risk: n % 9 === 0 ? 'high' : 'safe',
        })
        if (n % 3 === 0)
          events.push({
            id: `e2e-run-${user}-${n}`,
            kind: 'command.run',
            ts,
            team: 'acme',
            library: 'deploy',
            patternId: ['restart', 'rollback', 'logs'][n % 3 === 0 ? (n % 9 === 0 ? 0 : 1) : 2]!,
            exitCode: n % 5 === 0 ? 1 : 0,
            risk: n % 4 === 0 ? 'moderate' : 'safe',
            command: n % 5 === 0 ? 'kubectl rollout undo deploy/web' : 'kubectl logs deploy/web',
          })
      }
    await postEvents(t, events)
  }
  await page('Analytics', admin, async () => {
    await expect(admin.getByTestId('totals')).toContainText('AI suggestions')
    await expect(admin.getByTestId('by-model')).toContainText('qwen2.5-coder-1.5b')
    await expect(admin.locator('.recharts-bar-rectangle').first()).toBeVisible()
  })
  await shot(admin, 'console-analytics')

  // Settings: what members' apps send.
  await page('Settings', admin, async () => {
    await expect(admin.getByTestId('telemetry')).toBeVisible()
  })
  await admin.getByLabel(/What members do with AI suggestions/).check()
  await admin.getByRole('button', { name: 'Save what apps send' }).click()
  await expect(admin.getByText('Saved: members’ apps follow it now')).toBeVisible({
    timeout: 30_000,
  })
  await shot(admin, 'console-settings')

  // Ben's app shows the team's choice and exactly what it sent.
  await app.getByTestId('status-sync').click()
  await app.getByTestId('telemetry-tab').click()
  const team = app.getByTestId('telemetry-team')
  await expect(team).toContainText('Sent: what you do with AI suggestions', { timeout: 30_000 })
  await expect(team).toContainText('Chosen by ada')
  await expect(app.getByTestId('telemetry-view')).toContainText('"kind": "command.run"')
  await shot(app, 'app-telemetry')
  await app.keyboard.press('Escape')

  // Audit: filter, verify the chain, export it.
  await page('Audit log', admin, async () => {
    await expect(admin.getByTestId('audit-records')).toBeVisible()
  })
  await admin.getByLabel('Kind').selectOption('client.event')
  await admin.getByLabel('Text').fill('deploying 1.2')
  await admin.getByRole('button', { name: 'Filter' }).click()
  await expect(admin.getByTestId('audit-records')).toContainText('approval.decision')
  await admin.getByRole('button', { name: 'Verify the chain' }).click()
  await expect(admin.getByTestId('verify-result')).toContainText('Intact', { timeout: 60_000 })
  await shot(admin, 'console-audit')
  const download = admin.waitForEvent('download')
  await admin.getByRole('link', { name: 'JSON lines' }).click()
  const file = await (await download).path()
  const exported = readFileSync(file, 'utf8')
  expect(exported).toContain('"approval.decision"')
  expect(exported).toContain('"policy.change"')
  expect(exported).toContain('"audit.export"')

  // Dark theme, keyboard only: the theme switch and the navigation.
  await admin.getByRole('button', { name: /Switch to dark theme/ }).focus()
  await admin.keyboard.press('Enter')
  await expect(admin.locator('html')).toHaveAttribute('data-theme', 'dark')
  await admin.getByRole('link', { name: 'Members', exact: true }).focus()
  await admin.keyboard.press('Enter')
  await expect(admin.getByTestId('members-table')).toContainText('ben')
  expect(await axeProblems(admin)).toEqual([])
  await page('Analytics', admin, async () => {
    await expect(admin.locator('.recharts-bar-rectangle').first()).toBeVisible()
  })
  await shot(admin, 'console-analytics-dark')

  // Signing out ends the session: the same cookie gets nothing afterwards.
  await admin.getByRole('button', { name: 'Sign out' }).click()
  await expect(admin.getByText('You are not signed in')).toBeVisible()
  const res = await fetch(`${server.url}/admin/api/members`, {
    headers: { cookie: cookies.map((c) => `${c.name}=${c.value}`).join('; ') },
  })
  expect(res.status).toBe(401)
  expect(cspErrors).toEqual([])
})
