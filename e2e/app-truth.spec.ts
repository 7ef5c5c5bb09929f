import { readFileSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import type { Page } from '@playwright/test'
import { expect, shot, terminalText, test } from './fixtures'

// Issue 16: the app says what will happen and keeps what the user set. Each journey types into
// the terminal with the keyboard alone after a dialog closes, so a lost focus shows as lost text.

// The first open of the history database (PGlite's initdb) holds the server's event loop for tens
// of seconds on a busy 2-core machine; every journey starts after it, so that its timeouts measure
// the app and not that wait.
test.describe.configure({ timeout: 180_000 })

async function waitForPrompt(page: Page) {
  await expect.poll(() => terminalText(page), { timeout: 30_000 }).toContain('@cmdai:')
  await expect(page.getByTestId('status-db')).toHaveText('history: ready', { timeout: 120_000 })
}

/** Types a command where the keyboard is now (no click first) and waits for its output. */
async function typeHere(page: Page, command: string, output: RegExp) {
  await page.keyboard.type(`${command}\n`)
  await expect.poll(() => terminalText(page)).toMatch(output)
}

/** Where the keyboard is: inside the dialog with this test id / name, or elsewhere. */
function focusInside(page: Page, selector: string) {
  return page.evaluate((sel) => !!document.activeElement?.closest(sel), selector)
}

async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

test('settings keep what was saved before, and refuse what cannot work in words', async ({
  app: { page, dataDir },
}) => {
  await waitForPrompt(page)
  await page.getByRole('button', { name: 'Settings' }).click()
  const dialog = page.getByRole('dialog', { name: 'Settings' })
  const status = dialog.getByRole('status')

  await dialog.getByLabel('Theme').selectOption('dark')
  await expect(status).toHaveText('Saved')
  await dialog.getByLabel('Font size').fill('16')
  await dialog.getByLabel('Font size').press('Enter')
  await expect(status).toHaveText('Saved')
  const saved = () => JSON.parse(readFileSync(join(dataDir, 'settings.json'), 'utf8'))
  await expect.poll(() => saved().appearance).toEqual({ theme: 'dark', fontSize: 16 })

  const refuse = async (label: string, value: string, words: string) => {
    const field = dialog.getByLabel(label, { exact: true })
    await field.fill(value)
    await field.press('Enter')
    await expect(dialog.getByText(words, { exact: true })).toBeVisible()
    await expect(field).toHaveAttribute('aria-invalid', 'true')
    await expect(status).toHaveText(/Not saved/)
    await expect(dialog).not.toContainText('Invalid arguments')
  }
  await refuse('Shell', '/bin/nosuchshell', 'There is no shell at /bin/nosuchshell')
  await refuse('Start directory', '/no/such/dir', 'There is no folder /no/such/dir')
  await refuse(
    'Open the palette',
    'Ctrl+C',
    'Ctrl+C interrupts the running program; choose another shortcut',
  )
  await refuse('Open the palette', 'Ctrl+R', 'Ctrl+R is already the shortcut for “Search history”')
  await dialog.getByLabel('Open the palette', { exact: true }).scrollIntoViewIfNeeded()
  await shot(page, 'settings-refused')
  expect(saved()).toEqual({ appearance: { theme: 'dark', fontSize: 16 } })

  // Esc closes it and the keyboard is back in the terminal.
  await page.keyboard.press('Escape')
  await expect(dialog).toBeHidden()
  await typeHere(page, 'echo after-$((6*7))-settings', /^after-42-settings$/m)
})

test('a download that cannot connect fails at once, keeps its address and can be retried', async ({
  app: { page, home },
}) => {
  await waitForPrompt(page)
  const url = `http://127.0.0.1:${await closedPort()}/model.gguf`
  await page.getByRole('button', { name: 'Models' }).click()
  const dialog = page.getByRole('dialog', { name: 'Models' })
  await dialog.getByLabel('Model URI or URL').fill(url)
  const started = Date.now()
  await dialog.getByRole('button', { name: 'Download', exact: true }).click()
  const failed = dialog.locator('.cm-download[data-status="error"]')
  await expect(failed).toContainText('the connection was refused', { timeout: 20_000 })
  test
    .info()
    .annotations.push({ type: 'refused-download-ms', description: String(Date.now() - started) })
  await expect(failed.getByTestId('download-uri')).toHaveText(url)
  await expect(failed).toContainText('Failed')
  await failed.scrollIntoViewIfNeeded()
  await shot(page, 'model-download-failed')
  await failed.getByRole('button', { name: /^Retry download/ }).click()
  await expect(dialog.locator('.cm-download[data-status="error"]')).toContainText('refused', {
    timeout: 20_000,
  })

  // A 15-byte file with the GGUF magic: a clear error at once, and the server stays responsive.
  const broken = join(home, 'broken.gguf')
  writeFileSync(
    broken,
    Buffer.concat([Buffer.from('GGUF'), Buffer.from([3, 0, 0, 0]), Buffer.alloc(7)]),
  )
  await dialog.getByLabel('Path of a GGUF file').fill(broken)
  await dialog.getByRole('button', { name: 'Import' }).click()
  await expect(dialog.getByRole('alert').filter({ hasText: broken })).toContainText(
    '15 bytes long; a GGUF header alone takes 24',
    { timeout: 10_000 },
  )
  await page.keyboard.press('Escape')
  await expect(dialog).toBeHidden()
  await typeHere(page, 'echo still-$((40+2))-responsive', /^still-42-responsive$/m)
})

test('dialogs keep the keyboard inside and give it back to the terminal', async ({
  app: { page },
}) => {
  await waitForPrompt(page)
  await page.locator('.terminal-pane:not([hidden]) .xterm').click()

  // The palette: Tab never reaches the terminal behind it; Esc gives the keyboard back.
  await page.keyboard.press('Control+k')
  await expect(page.getByTestId('palette')).toBeVisible()
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Tab')
    expect(await focusInside(page, '[data-testid="palette"]')).toBe(true)
  }
  await page.keyboard.press('Escape')
  await expect(page.getByTestId('palette')).toBeHidden()
  await typeHere(page, 'echo kb-$((1+1))-palette', /^kb-2-palette$/m)

  // History: the same, with Shift+Tab too.
  await page.keyboard.press('Control+r')
  await expect(page.getByTestId('history-panel')).toBeVisible()
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press(i % 2 ? 'Tab' : 'Shift+Tab')
    expect(await focusInside(page, '[data-testid="history-panel"]')).toBe(true)
  }
  await page.keyboard.press('Escape')
  await typeHere(page, 'echo kb-$((2+1))-history', /^kb-3-history$/m)

  // Inserting an entry puts it at the prompt, and Enter runs it there.
  await page.keyboard.press('Control+r')
  await page.keyboard.type('kb-$((2+1))')
  await expect(page.getByTestId('history-panel').getByRole('option').first()).toContainText(
    'echo kb-$((2+1))-history',
    { timeout: 15_000 },
  )
  await page.keyboard.press('Enter')
  await expect(page.getByTestId('history-panel')).toBeHidden()
  await page.keyboard.press('Enter')
  await expect
    .poll(async () => (await terminalText(page)).match(/^kb-3-history$/gm)?.length ?? 0)
    .toBe(2)

  // Settings by its shortcut, Models from there, all by keyboard; Tab stays in each dialog.
  await page.keyboard.press('Control+Comma')
  const settings = page.getByRole('dialog', { name: 'Settings' })
  await expect(settings).toBeVisible()
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press('Tab')
    expect(await focusInside(page, '[role="dialog"]')).toBe(true)
  }
  const openModels = settings.getByRole('button', { name: 'Open the model manager' })
  for (
    let i = 0;
    i < 60 && !(await openModels.evaluate((el) => el === document.activeElement));
    i++
  )
    await page.keyboard.press('Tab')
  await expect(openModels).toBeFocused()
  await page.keyboard.press('Enter')
  const models = page.getByRole('dialog', { name: 'Models' })
  await expect(models).toBeVisible()
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press('Tab')
    expect(await focusInside(page, '[role="dialog"]')).toBe(true)
  }
  await page.keyboard.press('Escape')
  await expect(models).toBeHidden()
  await typeHere(page, 'echo kb-closed-models', /^kb-closed-models$/m)

  // Explain with nothing selected says what to do instead of nothing.
  await page.keyboard.press('Control+Shift+E')
  await expect(page.getByTestId('app-note')).toContainText('Nothing is selected')
  await expect(page.getByTestId('explain-panel')).toBeHidden()
  await shot(page, 'explain-nothing-selected')
})
