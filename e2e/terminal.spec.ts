import { expect, shot, terminalText, test, typeInTerminal } from './fixtures'

test('opens to a working terminal: echo hello shows its output', async ({ page, served }) => {
  await page.goto(served.url)
  // The token was traded for a cookie and removed from the address bar.
  await expect(page).toHaveURL(`${served.origin}/`)
  await expect(page.locator('.terminal-pane:not([hidden]) .xterm')).toBeVisible()
  await expect.poll(() => terminalText(page)).toContain('@cmdai:')
  await typeInTerminal(page, 'echo hello\n')
  await expect.poll(() => terminalText(page)).toMatch(/^hello$/m)
  await expect(page.getByTestId('status-shell')).toHaveText('/bin/bash')
  await expect(page.getByTestId('status-connection')).toHaveText('browser mode')
  await shot(page, 'terminal-echo-hello')
})

test('a second tab runs its own shell', async ({ page, served }) => {
  await page.goto(served.url)
  await expect.poll(() => terminalText(page)).toContain('@cmdai:')
  await typeInTerminal(page, 'echo first-tab\n')
  await page.getByRole('button', { name: 'New tab' }).click()
  await expect(page.getByRole('tab')).toHaveCount(2)
  await expect(page.getByRole('tab').nth(1)).toHaveAttribute('aria-selected', 'true')
  await expect.poll(() => terminalText(page)).toContain('@cmdai:')
  await typeInTerminal(page, 'cd /tmp && echo second-tab $PWD\n')
  await expect.poll(() => terminalText(page)).toContain('second-tab /tmp')
  expect(await terminalText(page)).not.toContain('first-tab')
  await expect(page.getByTestId('status-cwd')).toHaveText('/tmp')
  await shot(page, 'terminal-two-tabs')
  await page.getByRole('tab').first().click()
  await expect.poll(() => terminalText(page)).toContain('first-tab')
})

test('a killed shell says so and restarts in the same tab', async ({ page, served }) => {
  await page.goto(served.url)
  await expect.poll(() => terminalText(page)).toContain('@cmdai:')
  await page.getByRole('button', { name: 'Kill shell' }).click()
  await expect.poll(() => terminalText(page)).toContain('shell exited with code')
  await expect(page.getByRole('tab').first()).toHaveAttribute('data-state', 'exited')
  await shot(page, 'terminal-killed')
  await page.getByRole('button', { name: 'Restart shell' }).click()
  await expect(page.getByRole('tab').first()).toHaveAttribute('data-state', 'running')
  await typeInTerminal(page, 'echo alive-again\n')
  await expect.poll(() => terminalText(page)).toMatch(/^alive-again$/m)
  await shot(page, 'terminal-restarted')
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
  await expect.poll(() => terminalText(page)).toContain('@cmdai:')
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

test.describe('with default settings', () => {
  // Playwright reads fixture dependencies from the destructuring pattern, so it must stay.
  // eslint-disable-next-line no-empty-pattern
  test.use({ domRenderer: async ({}, use) => use() })
  test('uses the WebGL renderer where the browser has it', async ({ page, served }) => {
    await page.goto(served.url)
    const host = page.locator('.terminal-pane:not([hidden]) .terminal-host')
    await expect(host).toHaveAttribute('data-pty-id', /t\d+/)
    await expect(host).toHaveAttribute('data-renderer', 'webgl')
    await typeInTerminal(page, 'echo rendered-by-gpu\n')
    await page.waitForTimeout(500)
    await shot(page, 'terminal-default-renderer')
  })
})
