import type { Page } from '@playwright/test'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, shot, terminalReady, terminalText, test, typeInTerminal } from './fixtures'

// Paste, search and floods in the real UI: one paste per keystroke, large pastes arrive whole,
// risky multi-line pastes ask first, search finds and highlights, a flood stays bounded.

const promptShown = terminalReady

test.beforeEach(() => test.setTimeout(180_000))

/** Pastes `text` into the active terminal the way the browser does (a paste event). */
async function paste(page: Page, text: string): Promise<void> {
  const textarea = page.locator('.terminal-pane:not([hidden]) .xterm-helper-textarea')
  await textarea.focus()
  await textarea.evaluate((el, data) => {
    const transfer = new DataTransfer()
    transfer.setData('text/plain', data)
    el.dispatchEvent(
      new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }),
    )
  }, text)
}

test('Ctrl+Shift+V pastes once', async ({ app: { page }, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write'])
  await promptShown(page)
  await page.evaluate(() => navigator.clipboard.writeText('echo paste-$((40+2))'))
  await page.locator('.terminal-pane:not([hidden]) .xterm').click()
  await page.keyboard.press('Control+Shift+V')
  await page.waitForTimeout(600) // the fallback read would have happened by now
  await page.keyboard.press('Enter')
  await expect.poll(() => terminalText(page)).toMatch(/^paste-42$/m)
  const text = await terminalText(page)
  expect(text.match(/echo paste-\$\(\(40\+2\)\)/g)).toHaveLength(1)
})

test('a 10 MB paste into a running program arrives whole', async ({ app: { page, home } }) => {
  await promptShown(page)
  // 100,000 numbered lines of 100 characters (the tty's line limit is 4096).
  const lines: string[] = []
  for (let i = 0; i < 100_000; i++) lines.push(`${String(i).padStart(8, '0')} ${'x'.repeat(90)}`)
  const text = lines.join('\n') + '\n'
  expect(text.length).toBe(10_000_000)
  await typeInTerminal(page, 'stty -echo; cat > ~/pasted.txt; stty echo; echo cat-done\n')
  await page.waitForTimeout(500)
  await paste(page, text)
  const file = join(home, 'pasted.txt')
  const want = createHash('sha256').update(text).digest('hex')
  await expect
    .poll(() => (existsSync(file) ? readFileSync(file).length : 0), { timeout: 180_000 })
    .toBe(text.length)
  await page.keyboard.press('Control+D')
  await expect.poll(() => terminalText(page)).toMatch(/^cat-done$/m)
  expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(want)
})

test('a risky multi-line paste at the prompt asks first; a safe one does not', async ({
  app: { page, home },
}) => {
  await promptShown(page)
  mkdirSync(join(home, 'important'))
  writeFileSync(join(home, 'important', 'keep.txt'), 'data')
  await paste(page, 'echo first-line\nrm -rf ~/important\n')
  const dialog = page.getByRole('alertdialog', { name: 'Run this paste?' })
  await expect(dialog).toBeVisible()
  await expect(dialog).toContainText(/risk/)
  await expect(dialog.getByRole('button', { name: 'Cancel' })).toBeFocused()
  await shot(page, 'terminal-paste-confirm')
  await page.keyboard.press('Escape')
  await expect(dialog).toBeHidden()
  await page.waitForTimeout(500)
  expect(existsSync(join(home, 'important', 'keep.txt'))).toBe(true)
  expect(await terminalText(page)).not.toContain('first-line')

  // bash asked for bracketed paste: pasted lines wait in the line editor for Enter.
  await paste(page, 'echo safe-one\necho safe-two\n')
  await expect(dialog).toBeHidden()
  await page.keyboard.press('Enter')
  await expect.poll(() => terminalText(page)).toMatch(/^safe-two$/m)

  await paste(page, 'echo confirmed\nrm -rf ~/important\n')
  await dialog.getByRole('button', { name: 'Paste and run' }).click()
  await expect(dialog).toBeHidden()
  await page.keyboard.press('Enter')
  await expect.poll(() => existsSync(join(home, 'important'))).toBe(false)
})

test('search finds, counts and highlights matches, with case and regex toggles', async ({
  app: { page },
}) => {
  await promptShown(page)
  await typeInTerminal(page, 'printf "alpha Beta\\nbeta gamma\\nBETA delta\\n"\n')
  await expect.poll(() => terminalText(page)).toMatch(/^BETA delta$/m)
  await page.keyboard.press('Control+Shift+F')
  const bar = page.getByRole('search', { name: 'Find in terminal' })
  await expect(bar).toBeVisible()
  const count = bar.getByTestId('search-count')
  await bar.getByRole('textbox', { name: 'Find' }).fill('beta')
  // Three in the command line as typed, three in its output.
  await expect(count).toHaveText(/^\d of 6$/)
  await expect(page.locator('.xterm-find-result-decoration').first()).toBeAttached()
  await shot(page, 'terminal-search')
  const before = await count.textContent()
  await page.keyboard.press('Enter')
  await expect(count).not.toHaveText(before!)
  await bar.getByRole('button', { name: 'Match case' }).click()
  await expect(count).toHaveText(/^\d of 2$/)
  await bar.getByRole('button', { name: 'Match case' }).click()
  await bar.getByRole('button', { name: 'Regular expression' }).click()
  await bar.getByRole('textbox', { name: 'Find' }).fill('^beta g\\w+$')
  await expect(count).toHaveText('1 of 1')
  await bar.getByRole('textbox', { name: 'Find' }).fill('(a+)+$')
  await expect(count).toHaveText(/exponential/)
  await page.keyboard.press('Escape')
  await expect(bar).toBeHidden()
  await page.keyboard.type('echo back-in-shell\n')
  await expect.poll(() => terminalText(page)).toMatch(/^back-in-shell$/m)
})

test('a flood stays bounded on the server and Ctrl+C stops it at once', async ({
  page,
  served,
}) => {
  await page.addInitScript(() => localStorage.setItem('cmdai:terminal.gpuAcceleration', 'off'))
  await page.goto(served.url)
  await promptShown(page)
  const rss = () => {
    const status = readFileSync(`/proc/${served.process.pid}/status`, 'utf8')
    return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) * 1024
  }
  const before = rss()
  let peak = before
  await typeInTerminal(page, 'yes cmdai-flood-line | head -c 300000000; echo flood-finished\n')
  const sampler = setInterval(() => (peak = Math.max(peak, rss())), 100)
  try {
    await page.waitForTimeout(6000)
    const sent = Date.now()
    await page.keyboard.press('Control+C')
    await page.keyboard.type('echo stopped-$((6*7))\n')
    await expect
      .poll(() => terminalText(page), { timeout: 10_000, intervals: [100] })
      .toMatch(/^stopped-42$/m)
    const answered = Date.now() - sent
    await shot(page, 'terminal-flood-stopped')
    expect(await terminalText(page)).not.toContain('flood-finished')
    // The page's screen, not the server, decides the pace; 300 MB would take far longer.
    expect(answered).toBeLessThan(5000)
  } finally {
    clearInterval(sampler)
  }
  expect(peak - before).toBeLessThan(150 * 1024 * 1024)
})
