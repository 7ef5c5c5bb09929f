import {
  expect,
  shot,
  startServe,
  stopServe,
  terminalReady,
  terminalText,
  test,
  typeInTerminal,
} from './fixtures'

// These journeys are about browser mode's own door (token, origin, socket frames); the desktop
// app has no such door, so this file is not part of an Electron run (see playwright.config.ts).

test.beforeEach(async ({ page }) => {
  test.setTimeout(180_000)
  await page.addInitScript(() => localStorage.setItem('cmdai:terminal.gpuAcceleration', 'off'))
})

test('the token is traded for a cookie and the UI shows browser mode', async ({ page, served }) => {
  await page.goto(served.url)
  await expect(page).toHaveURL(`${served.origin}/`)
  await terminalReady(page)
  await expect(page.getByTestId('status-connection')).toHaveText('browser mode')
})

test('a wrong or missing token, or a foreign origin, is refused', async ({
  page,
  served,
  request,
}) => {
  const missing = await request.get(`${served.origin}/`)
  expect(missing.status()).toBe(403)
  const wrong = await request.get(`${served.origin}/?token=${'0'.repeat(48)}`, { maxRedirects: 0 })
  expect(wrong.status()).toBe(403)
  await page.goto(`${served.origin}/?token=nope`)
  await expect(page.locator('body')).toContainText('Wrong token')
  await shot(page, 'wrong-token-refused')

  // With the right cookie, a WebSocket from another origin is still refused.
  await page.goto(served.url)
  const foreign = await page.evaluate(async (port) => {
    return await new Promise<string>((resolve) => {
      const ws = new WebSocket(`ws://localhost:${port}/ws`)
      ws.onopen = () => resolve('open')
      ws.onerror = () => resolve('refused')
    })
  }, new URL(served.origin).port)
  // localhost:port is a different origin from 127.0.0.1:port and carries no cookie.
  expect(foreign).toBe('refused')
})

test('malformed requests get clear errors and the terminal keeps working', async ({
  page,
  served,
}) => {
  await page.goto(served.url)
  await terminalReady(page)
  const answers = await page.evaluate(async () => {
    const ws = new WebSocket(`ws://${location.host}/ws`)
    await new Promise((r) => (ws.onopen = r))
    const replies: string[] = []
    ws.onmessage = (m) => {
      const frame = JSON.parse(String(m.data))
      if (frame.t !== 'evt') replies.push(JSON.stringify(frame))
    }
    ws.send('not json')
    ws.send(JSON.stringify({ t: 'req', id: 1, channel: 'fs:delete', args: {} }))
    ws.send(
      JSON.stringify({ t: 'req', id: 2, channel: 'pty:resize', args: { id: 'x', cols: 'wide' } }),
    )
    ws.send(
      JSON.stringify({ t: 'req', id: 3, channel: 'pty:write', args: { id: 'nope', data: 'x' } }),
    )
    await new Promise((r) => setTimeout(r, 500))
    ws.close()
    return replies
  })
  expect(answers.join('\n')).toContain('"code":"invalid_input","message":"Malformed request frame"')
  expect(answers.join('\n')).toContain('"code":"unknown_channel"')
  expect(answers.join('\n')).toMatch(/"id":2.*"code":"invalid_input"/)
  expect(answers.join('\n')).toMatch(/"id":3.*"code":"not_found"/)
  await typeInTerminal(page, 'echo still-fine\n')
  await expect.poll(() => terminalText(page)).toMatch(/^still-fine$/m)
})

// Shells live on the server: a reload, a second browser tab and a server restart.

const promptShown = terminalReady

test('a reload keeps the shell: its variables, its screen and its tabs', async ({
  page,
  served,
}) => {
  await page.goto(served.url)
  await promptShown(page)
  await typeInTerminal(page, 'export X=42; echo before-reload-$X\n')
  await expect.poll(() => terminalText(page)).toMatch(/^before-reload-42$/m)
  await page.getByRole('button', { name: 'New tab' }).click()
  await expect(page.getByRole('tab')).toHaveCount(2)
  await promptShown(page)
  await page.getByRole('tab').first().click()

  await page.reload()
  await expect(page.getByRole('tab')).toHaveCount(2)
  // The screen comes back from the server before anything new is typed.
  await expect.poll(() => terminalText(page)).toMatch(/^before-reload-42$/m)
  await typeInTerminal(page, 'echo after-reload-$X\n')
  await expect.poll(() => terminalText(page)).toMatch(/^after-reload-42$/m)
  await shot(page, 'terminal-after-reload')
})

test('a second browser tab gets its own shells, or a clear choice, never a stolen one', async ({
  page,
  served,
  context,
}) => {
  await page.goto(served.url)
  await promptShown(page)
  await typeInTerminal(page, 'export WHO=first\n')
  const viewId = await page.evaluate(() => sessionStorage.getItem('cmdai:terminal.view'))
  expect(viewId).toBeTruthy()

  // A new tab of the same browser: its own shell.
  const second = await context.newPage()
  await second.goto(`${served.origin}/`)
  await promptShown(second)
  await typeInTerminal(second, 'echo who=${WHO:-nobody}\n')
  await expect.poll(() => terminalText(second)).toMatch(/^who=nobody$/m)

  // A duplicated tab carries the first tab's view id: it is asked, not handed the shell.
  const duplicate = await context.newPage()
  await duplicate.addInitScript((id) => sessionStorage.setItem('cmdai:terminal.view', id), viewId!)
  await duplicate.goto(`${served.origin}/`)
  await expect(duplicate.getByText('open in another browser tab')).toBeVisible()
  await shot(duplicate, 'terminal-view-in-use')
  await duplicate.getByRole('button', { name: 'Move them to this tab' }).click()
  await promptShown(duplicate)
  await typeInTerminal(duplicate, 'echo who=$WHO\n')
  await expect.poll(() => terminalText(duplicate)).toMatch(/^who=first$/m)
  // The first tab says where its shells went and offers them back.
  await expect(page.getByText('were moved to another browser tab')).toBeVisible()
  await page.getByRole('button', { name: 'Move them to this tab' }).click()
  await promptShown(page)
  await expect(duplicate.getByText('were moved to another browser tab')).toBeVisible()
})

test('after a server restart the open page reconnects by itself and its tabs come back', async ({
  page,
}) => {
  let served = await startServe()
  try {
    await page.goto(served.url)
    await promptShown(page)
    await typeInTerminal(
      page,
      "mkdir -p ~/proj && cd ~/proj && printf '\\033]0;build box\\007' && echo restored-scrollback\n",
    )
    await expect.poll(() => terminalText(page)).toMatch(/^restored-scrollback$/m)
    await expect(page.getByRole('tab').first()).toHaveText(/build box/)

    await stopServe(served, true)
    await expect(page.getByTestId('reconnecting')).toBeVisible()
    await shot(page, 'terminal-reconnecting')
    // Same data dir: same token and port, so this page finds the new server on its own.
    served = await startServe({}, { again: served, args: [] })
    await expect(page.getByTestId('reconnecting')).toBeHidden({ timeout: 30_000 })
    await expect.poll(() => terminalText(page), { timeout: 30_000 }).toContain('restored from')
    expect(await terminalText(page)).toMatch(/^restored-scrollback$/m)
    await expect(page.getByRole('tab').first()).toHaveText(/build box/)
    await typeInTerminal(page, 'echo cwd=$PWD\n')
    await expect.poll(() => terminalText(page)).toMatch(/^cwd=.*\/home\/proj$/m)
    await shot(page, 'terminal-restored-after-restart')
  } finally {
    await stopServe(served)
  }
})
