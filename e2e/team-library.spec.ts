import { expect, test, type Page } from '@playwright/test'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { SYNC_WS_PATH, writePolicyDocument } from '../contract/sync'
import { startTeamServer, type TeamServer } from '../main/library/testing/team-server'
import { ELECTRON, shot, startServe, stopServe, type ServedApp } from './fixtures'

/**
 * Two app instances (two `cmdai serve` processes with their own data dirs) co-edit a team library
 * through the real sync server: live edits with presence, both go offline and edit, reconnect and
 * converge (a concurrent edit of one field is shown with both values); a production pattern needs
 * an approval, asked in one app and granted in the other; it then runs in the terminal with its
 * parameter quoted, lands in history and in the team's audit log; the palette offers patterns.
 */
test.skip(ELECTRON, 'two app instances and a sync server are a browser-mode journey')
test.describe.configure({ timeout: 480_000 })

let server: TeamServer
let ann: ServedApp
let bob: ServedApp

test.beforeAll(async () => {
  test.setTimeout(300_000)
  // One after the other: three databases initialising at once starve a 2-core machine.
  server = await startTeamServer()
  ann = await startServe()
  bob = await startServe()
})

test.afterAll(async () => {
  await Promise.all([ann && stopServe(ann), bob && stopServe(bob)])
  await server?.stop()
})

async function openApp(page: Page, app: ServedApp): Promise<void> {
  await page.goto(app.url)
  await expect(page.locator('.terminal-pane:not([hidden]) .xterm')).toBeVisible()
  await expect(page.getByTestId('status-shell')).toContainText('bash', { timeout: 30_000 })
}

async function openLibrary(page: Page): Promise<void> {
  await page.getByTestId('status-sync').click()
  await expect(page.getByTestId('library-panel')).toBeVisible()
}

async function join(page: Page, token: string): Promise<void> {
  await openLibrary(page)
  await page.getByRole('button', { name: '+ Join a team library' }).click()
  const form = page.getByTestId('join-form')
  await form.getByLabel('Team server').fill(server.url)
  await form.getByLabel(/Your token/).fill(token)
  await form.getByLabel('Library').fill('deploy')
  await form.getByRole('button', { name: 'Join' }).click()
  await expect(page.getByTestId('library-banner')).toContainText('synced', { timeout: 30_000 })
}

async function newPattern(page: Page, title: string, command: string, tags = ''): Promise<void> {
  await page.getByRole('button', { name: 'New pattern' }).click()
  const editor = page.getByTestId('pattern-editor')
  await editor.getByLabel('Title').fill(title)
  await editor.getByLabel(/^Command/).fill(command)
  if (tags) await editor.getByLabel(/^Tags/).fill(tags)
  await editor.getByRole('button', { name: /Save/ }).click()
  await expect(page.getByTestId('pattern-list')).toContainText(title)
}

const list = (page: Page) => page.getByTestId('pattern-list')

test('two apps co-edit a team library through the real server, offline and back, with an approval', async ({
  browser,
}) => {
  const tokens = {
    ann: server.token('acme', 'ann', 'engineer'),
    bob: server.token('acme', 'bob', 'engineer'),
    ada: server.token('acme', 'ada', 'admin'),
  }
  const a = await (await browser.newContext({ viewport: { width: 1200, height: 760 } })).newPage()
  const b = await (await browser.newContext({ viewport: { width: 1200, height: 760 } })).newPage()
  await Promise.all([openApp(a, ann), openApp(b, bob)])
  await join(a, tokens.ann)
  await join(b, tokens.bob)

  // Live: ann's new pattern appears in bob's app.
  await newPattern(
    a,
    'Restart a deployment',
    'kubectl rollout restart deployment/{{app}} -n {{ns}}',
    'k8s',
  )
  await expect(list(b)).toContainText('Restart a deployment', { timeout: 20_000 })

  // Presence: bob looks at it; ann sees his initial on the pattern.
  await list(b).getByText('Restart a deployment').click()
  await expect(list(a).getByTestId('presence')).toBeVisible({ timeout: 20_000 })
  await list(a).getByText('Restart a deployment').click()
  await shot(a, 'library-panel-presence')

  // Both go offline and edit: a new pattern each, and the same field of the same pattern.
  for (const page of [a, b]) {
    await page.getByTestId('toggle-online').click()
    await expect(page.getByTestId('library-banner')).toContainText('offline')
  }
  await newPattern(a, 'Ann offline', 'echo ann')
  await newPattern(b, 'Bob offline', 'echo bob')
  for (const [page, flag] of [
    [a, '--ann'],
    [b, '--bob'],
  ] as const) {
    await list(page).getByText('Restart a deployment').click()
    await page.getByTestId('pattern-detail').getByRole('button', { name: 'Edit' }).click()
    const command = page.getByTestId('pattern-editor').getByLabel(/^Command/)
    await command.fill(`kubectl rollout restart deployment/{{app}} -n {{ns}} ${flag}`)
    await page.getByTestId('pattern-editor').getByRole('button', { name: /Save/ }).click()
  }
  await expect(a.getByTestId('library-banner')).toContainText('offline edits are kept')

  // Reconnect: both converge.
  for (const page of [a, b]) await page.getByTestId('toggle-online').click()
  for (const page of [a, b]) {
    await expect(page.getByTestId('library-banner')).toContainText('synced', { timeout: 30_000 })
    await expect(list(page)).toContainText('Ann offline', { timeout: 30_000 })
    await expect(list(page)).toContainText('Bob offline', { timeout: 30_000 })
  }
  // One command won on both sides; the concurrent edit is shown with both values.
  const markerA = a.getByTestId('conflict-marker')
  const markerB = b.getByTestId('conflict-marker')
  await list(a).getByText('Restart a deployment').click()
  await list(b).getByText('Restart a deployment').click()
  await expect
    .poll(async () => (await markerA.count()) + (await markerB.count()), { timeout: 20_000 })
    .toBeGreaterThan(0)
  const detailA = await a.getByTestId('pattern-detail').locator('pre').innerText()
  const detailB = await b.getByTestId('pattern-detail').locator('pre').innerText()
  expect(detailA).toBe(detailB)
  const withMarker = (await markerA.count()) > 0 ? a : b
  await expect(withMarker.getByTestId('conflict-marker')).toContainText('--ann')
  await expect(withMarker.getByTestId('conflict-marker')).toContainText('--bob')
  // It names who wrote the other value.
  await expect(withMarker.getByTestId('conflict-marker')).toContainText(
    withMarker === a ? 'bob changed' : 'ann changed',
  )
  await shot(withMarker, 'library-conflict-marker')

  // The team's policy: production patterns need an approval (written by the admin).
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(
    server.url.replace('http', 'ws') + SYNC_WS_PATH,
    'acme/.policy',
    doc,
    {
      params: { token: tokens.ada },
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      disableBc: true,
    },
  )
  await expect.poll(() => provider.synced, { timeout: 20_000 }).toBe(true)
  writePolicyDocument(
    doc,
    {
      version: 1,
      rules: [
        {
          id: 'prod-approval',
          effect: 'block',
          match: { tag: 'production' },
          reason: 'production changes need a second pair of eyes',
        },
      ],
    },
    'ada',
  )
  await new Promise((r) => setTimeout(r, 1_000))
  provider.destroy()

  // Ann fills in a production pattern with a hostile value: it is quoted, checked, and needs approval.
  await newPattern(a, 'Announce a deploy', 'echo deploying {{version}} to prod', 'production')
  await list(a).getByText('Announce a deploy').click()
  await a.getByTestId('pattern-detail').getByRole('button', { name: 'Fill in and run' }).click()
  const form = a.getByTestId('param-form')
  await form.getByLabel(/version/).fill('1.2; rm -rf ~')
  await expect(a.getByTestId('param-command')).toContainText(
    "echo deploying '1.2; rm -rf ~' to prod",
  )
  await expect(a.getByTestId('param-decision')).toContainText('prod-approval')
  await shot(a, 'library-parameter-form')
  await form.getByRole('button', { name: 'Ask for approval' }).click()
  await a.getByLabel(/Why does this need to run/).fill('release 1.2 announcement')
  await a.getByRole('button', { name: 'Request approval' }).click()
  await expect(a.getByTestId('approval-state')).toContainText('waiting for an approver')

  // Bob sees the request live and approves it with a comment.
  await b.getByTestId('approvals-tab').click()
  const item = b.getByTestId('approval-item').filter({ hasText: 'release 1.2 announcement' })
  await expect(item).toBeVisible({ timeout: 20_000 })
  await item.getByLabel(/Comment for ann/).fill('go ahead')
  await shot(b, 'library-approval')
  await item.getByRole('button', { name: 'Approve' }).click()

  // Ann is told, and runs exactly the approved command in her terminal.
  await expect(a.getByTestId('approval-state')).toContainText('Approved by bob: go ahead', {
    timeout: 20_000,
  })
  await a.getByTestId('param-form').getByRole('button', { name: /^Run/ }).click()
  await expect(a.getByTestId('library-panel')).toBeHidden()
  await shot(a, 'library-run-terminal')

  // In history (the shell's record of the run), and in the team's audit log with the pattern.
  await a.keyboard.press('Control+r')
  const historyPanel = a.getByTestId('history-panel')
  await expect(historyPanel).toBeVisible()
  await a.keyboard.type('deploying')
  const row = historyPanel.getByRole('option').first()
  // The shell ran the quoted command and it succeeded (✓): the value stayed one argument.
  await expect(row).toContainText(`echo deploying '1.2; rm -rf ~' to prod`, { timeout: 20_000 })
  await expect(row).toContainText('✓')
  await a.keyboard.press('Escape')
  await expect
    .poll(
      () =>
        server
          .cli(['audit', 'export', '--format', 'jsonl'])
          .split('\n')
          .filter((l) => l.includes('"command.run"') && l.includes('"actor":"ann"'))
          .join('\n'),
      { timeout: 30_000 },
    )
    .toContain('deploying')

  // The palette offers matching patterns next to the model and history.
  await a.keyboard.press('Control+k')
  await a.getByLabel('Describe the command you want').fill('restart deployment')
  await expect(
    a
      .getByTestId('palette')
      .getByRole('option', { name: /pattern/ })
      .first(),
  ).toBeVisible({
    timeout: 20_000,
  })
  await shot(a, 'palette-patterns')
})
