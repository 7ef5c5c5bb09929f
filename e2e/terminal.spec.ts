import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
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

test.beforeEach(() => test.setTimeout(180_000))

test('opens to a working terminal: echo hello shows its output', async ({ app: { page } }) => {
  // The first tab waits for the server's thread while the database is first created.
  await expect(page.locator('.terminal-pane:not([hidden]) .xterm')).toBeVisible({
    timeout: 90_000,
  })
  await terminalReady(page)
  await typeInTerminal(page, 'echo hello\n')
  await expect.poll(() => terminalText(page)).toMatch(/^hello$/m)
  await expect(page.getByTestId('status-shell')).toHaveText('/bin/bash')
  await shot(page, 'terminal-echo-hello')
})

test('a second tab runs its own shell', async ({ app: { page } }) => {
  await terminalReady(page)
  await typeInTerminal(page, 'echo first-tab\n')
  await page.getByRole('button', { name: 'New tab' }).click()
  await expect(page.getByRole('tab')).toHaveCount(2)
  await expect(page.getByRole('tab').nth(1)).toHaveAttribute('aria-selected', 'true')
  await terminalReady(page)
  await typeInTerminal(page, 'cd /tmp && echo second-tab $PWD\n')
  await expect.poll(() => terminalText(page)).toContain('second-tab /tmp')
  expect(await terminalText(page)).not.toContain('first-tab')
  await expect(page.getByTestId('status-cwd')).toHaveText('/tmp')
  await shot(page, 'terminal-two-tabs')
  await page.getByRole('tab').first().click()
  await expect.poll(() => terminalText(page)).toContain('first-tab')
})

test('a killed shell says so and restarts in the same tab', async ({ app: { page } }) => {
  await terminalReady(page)
  await page.getByRole('button', { name: 'Kill shell' }).click()
  // It says what ended the shell, not a misleading "exit code 0".
  await expect.poll(() => terminalText(page)).toContain('shell ended by SIGHUP')
  expect(await terminalText(page)).not.toContain('exited with code 0')
  await expect(page.getByRole('tab').first()).toHaveAttribute('data-state', 'exited')
  await shot(page, 'terminal-killed')
  await page.getByRole('button', { name: 'Restart shell' }).click()
  await expect(page.getByRole('tab').first()).toHaveAttribute('data-state', 'running')
  await typeInTerminal(page, 'echo alive-again\n')
  await expect.poll(() => terminalText(page)).toMatch(/^alive-again$/m)
  await shot(page, 'terminal-restarted')
})

test.describe('with default settings', () => {
  test.use({ gpu: true })
  test('uses the WebGL renderer where the browser has it', async ({ app: { page } }) => {
    const host = page.locator('.terminal-pane:not([hidden]) .terminal-host')
    // WebGL draws no text to read: wait for the shell itself (slow while the database opens).
    await expect(host).toHaveAttribute('data-pty-id', /t\d+/, { timeout: 90_000 })
    await expect(host).toHaveAttribute('data-renderer', 'webgl')
    await typeInTerminal(page, 'echo rendered-by-gpu\n')
    await page.waitForTimeout(500)
    await shot(page, 'terminal-default-renderer')
  })
})

test('a shell that cannot start says why in its tab; the other tabs keep working', async ({
  app: { page, dataDir },
}) => {
  await terminalReady(page)
  // The settings panel refuses a shell that does not exist; one that went away since (an
  // uninstalled shell, a settings file edited by hand) reaches the terminal.
  writeFileSync(
    join(dataDir, 'settings.json'),
    JSON.stringify({ terminal: { shell: '/nonexistent/shell' } }),
  )
  await page.getByRole('button', { name: 'New tab' }).click()
  await expect.poll(() => terminalText(page)).toContain('could not start a shell')
  await expect(page.getByTestId('status-shell')).toContainText('Shell not found')
  await shot(page, 'terminal-shell-failed')
  await page.getByRole('tab').first().click()
  await typeInTerminal(page, 'echo first-still-fine\n')
  await expect.poll(() => terminalText(page)).toMatch(/^first-still-fine$/m)
})

test.describe('saved terminal settings', () => {
  test.use({ gpu: true })
  test('apply to the first tab at once and reach open tabs when changed', async ({ page }) => {
    const served = await startServe({}, {})
    try {
      writeFileSync(
        join(served.dataDir, 'settings.json'),
        JSON.stringify({
          appearance: { fontSize: 19, fontFamily: 'DejaVu Sans Mono', theme: 'light' },
          terminal: { gpuAcceleration: 'off' },
        }),
      )
      await page.goto(served.url)
      await terminalReady(page)
      const host = page.locator('.terminal-pane:not([hidden]) .terminal-host')
      await expect(host).toHaveAttribute('data-pty-id', /t\d+/)
      await expect(host).toHaveAttribute('data-renderer', 'dom')
      const rows = page.locator('.terminal-pane:not([hidden]) .xterm-rows')
      await expect(rows).toHaveCSS('font-size', '19px')
      await expect(rows).toHaveCSS('font-family', /DejaVu Sans Mono/)

      // Light theme: the character under the block cursor is drawn in the background colour.
      await typeInTerminal(page, 'echo cursor-check')
      await page.keyboard.press('Home')
      // The cursor blinks; in every frame where the block is drawn, its character must be legible.
      const frames = await page.evaluate(async () => {
        const seen: Array<[string, string]> = []
        for (let i = 0; i < 40; i++) {
          const cell = document.querySelector('.terminal-pane:not([hidden]) .xterm-cursor')
          if (cell) {
            const style = getComputedStyle(cell)
            seen.push([style.backgroundColor, style.color])
          }
          await new Promise((r) => setTimeout(r, 40))
        }
        return seen
      })
      const block = frames.filter(([background]) => background === 'rgb(36, 41, 47)')
      expect(block.length).toBeGreaterThan(0)
      for (const [, color] of block) expect(color).toBe('rgb(251, 251, 252)')
      await shot(page, 'terminal-light-cursor')

      await page.getByRole('button', { name: 'Settings' }).click()
      const dialog = page.getByRole('dialog', { name: /settings/i })
      const size = dialog.getByRole('textbox', { name: 'Font size' })
      await size.fill('15')
      await size.press('Enter')
      await expect(dialog.getByText('Saved').first()).toBeVisible()
      await page.keyboard.press('Escape')
      await expect(rows).toHaveCSS('font-size', '15px')
    } finally {
      await stopServe(served)
    }
  })
})

test('at 480 px wide the tabs and the + button stay on screen', async ({ app: { page } }) => {
  await page.setViewportSize({ width: 480, height: 640 })
  await terminalReady(page)
  const plus = page.getByRole('button', { name: 'New tab' })
  await expect(plus).toBeInViewport({ ratio: 1 })
  await expect(page.getByRole('tab').first()).toBeInViewport({ ratio: 1 })
  await plus.click()
  await expect(page.getByRole('tab')).toHaveCount(2)
  await expect(page.getByRole('button', { name: 'Kill shell' })).toBeInViewport({ ratio: 1 })
  await shot(page, 'terminal-480px')
})
