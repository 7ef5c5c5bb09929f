import { expect, shot, terminalText, test, typeInTerminal } from './fixtures'

// These journeys are about browser mode's own door (token, origin, socket frames); the desktop
// app has no such door, so this file is not part of an Electron run (see playwright.config.ts).

test.beforeEach(async ({ page }) => {
  await page.addInitScript(() => localStorage.setItem('cmdai:terminal.gpuAcceleration', 'off'))
})

test('the token is traded for a cookie and the UI shows browser mode', async ({ page, served }) => {
  await page.goto(served.url)
  await expect(page).toHaveURL(`${served.origin}/`)
  await expect.poll(() => terminalText(page)).toContain('@cmdai:')
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
