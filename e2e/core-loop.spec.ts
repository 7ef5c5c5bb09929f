import { ensureFixtureModel } from '../scripts/fixture-model'
import { expect, shot, terminalReady, terminalText, test, typeInTerminal } from './fixtures'

// The tiny fixture model has random weights and a real tokenizer: grammar-constrained generation
// still yields a valid {command, explanation} object, so the whole path runs for real. The
// command it writes is noise, so the journeys edit it into known commands.
test.use({ serveEnv: { CMDAI_MODEL: ensureFixtureModel('tiny') } })

// The first open of the history database holds the server's event loop for a while on a busy
// machine (PGlite's initdb): the journeys start after it.
test.describe.configure({ timeout: 180_000 })

// The shared wait: the prompt (however long the server's thread is held) and an open database.
const waitForPrompt = terminalReady

test('ask, review, edit to something critical and see it blocked, run a safe one', async ({
  app: { page },
}) => {
  await waitForPrompt(page)
  await expect(page.getByTestId('status-model')).toContainText('model:', { timeout: 30_000 })

  await page.keyboard.press('Control+k')
  const palette = page.getByTestId('palette')
  await expect(palette).toBeVisible()
  await page.keyboard.type('list the files in this directory')
  await shot(page, 'palette-request')
  const asked = Date.now()
  await page.keyboard.press('Enter')

  const card = page.getByTestId('suggestion-card')
  await expect(card).toBeVisible({ timeout: 60_000 })
  // Random weights: the proposal may be any text, even empty. Either way the card is complete:
  // a rated command, or the note that no command was proposed.
  await expect
    .poll(async () => {
      const risk = await card.getAttribute('data-risk')
      const empty = await card.getByText('No command was proposed').count()
      return /safe|moderate|high|critical/.test(risk ?? '') || empty === 1
    })
    .toBe(true)
  await expect(card.getByRole('button', { name: /Cancel/ })).toBeVisible()
  test
    .info()
    .annotations.push({ type: 'enter-to-card-ms', description: String(Date.now() - asked) })
  await shot(page, 'card-from-model')

  // Edit: every keystroke is re-checked; a critical command is blocked with its reason.
  await page.keyboard.press('e')
  const editor = page.getByRole('textbox', { name: 'Edit the command' })
  // The caret starts at the end, so typing adds to the proposal.
  await expect(editor).toBeFocused()
  expect(
    await editor.evaluate((el: HTMLTextAreaElement) => [el.selectionStart, el.value.length]),
  ).toEqual(await editor.evaluate((el: HTMLTextAreaElement) => [el.value.length, el.value.length]))
  await editor.fill('sudo rm -rf --no-preserve-root /')
  await expect(card).toHaveAttribute('data-risk', 'critical')
  await expect(page.getByTestId('card-blocked')).toBeVisible()
  await expect(card.getByRole('button', { name: /^Run/ })).toBeDisabled()
  await shot(page, 'card-critical-blocked')

  // A high-risk command asks for a second confirmation.
  await editor.fill('git push --force origin main')
  await expect(card).toHaveAttribute('data-risk', 'high')
  await editor.press('Enter')
  await expect(page.getByRole('alertdialog', { name: 'Confirm a high-risk command' })).toBeVisible()
  await shot(page, 'card-high-confirm')

  await editor.fill('mkdir -p build && touch build/marker')
  await expect(card).toHaveAttribute('data-risk', 'moderate')
  await shot(page, 'card-moderate')

  // Leaving the editor, the card still shows (and Run and Copy still act on) the edited text.
  await editor.press('Escape')
  await expect(editor).toBeHidden()
  await expect(page.getByTestId('card-command')).toHaveText('mkdir -p build && touch build/marker')
  await expect(page.getByTestId('card-edited')).toBeVisible()
  await expect(card).toHaveAttribute('data-risk', 'moderate')
  await shot(page, 'card-edited')
  await page.keyboard.press('e')
  await expect(editor).toHaveValue('mkdir -p build && touch build/marker')

  // A safe one runs in the terminal; its result comes back onto the card.
  await editor.fill('echo cmdai-e2e-$((40+2))')
  await expect(card).toHaveAttribute('data-risk', 'safe')
  await shot(page, 'card-safe')
  await editor.press('Enter')
  await expect(page.getByTestId('card-run')).toContainText('exited with 0', { timeout: 15_000 })
  await shot(page, 'card-ran')
  await page.keyboard.press('Escape')
  await expect(palette).toBeHidden()
  await expect.poll(() => terminalText(page)).toMatch(/^cmdai-e2e-42$/m)

  // ...and lands in history, found with Ctrl+R.
  await page.keyboard.press('Control+r')
  const history = page.getByTestId('history-panel')
  await expect(history).toBeVisible()
  await page.keyboard.type('cmdai-e2e')
  await expect(history.getByRole('option').first()).toContainText('echo cmdai-e2e-$((40+2))', {
    timeout: 15_000,
  })
  await shot(page, 'history-search')
})

test('a command typed in the terminal is found with Ctrl+R', async ({ app: { page } }) => {
  await waitForPrompt(page)
  await typeInTerminal(page, 'echo history-journey-one && false\n')
  await typeInTerminal(page, 'printf "history-journey-two\\n"\n')
  await expect.poll(() => terminalText(page)).toContain('history-journey-two')
  await page.keyboard.press('Control+r')
  const history = page.getByTestId('history-panel')
  await page.keyboard.type('history-journey')
  await expect(history.getByRole('option')).toHaveCount(2, { timeout: 15_000 })
  await expect(
    history.getByRole('option').filter({ hasText: 'echo history-journey-one' }),
  ).toContainText('✗ 1')
  await page.getByRole('checkbox', { name: 'Failed only' }).check()
  await expect(history.getByRole('option')).toHaveCount(1)
  await shot(page, 'history-failed-only')
  // Enter puts the command at the prompt without running it.
  await history.getByRole('option').first().click()
  await page.keyboard.press('Enter')
  await expect(history).toBeHidden()
})

test('"# request" at the prompt opens the palette with those words', async ({ app: { page } }) => {
  await waitForPrompt(page)
  await typeInTerminal(page, '# show disk usage of this folder\n')
  const input = page.getByRole('textbox', { name: 'Describe the command you want' })
  await expect(input).toHaveValue('show disk usage of this folder')
})

test('explain a selected command: structure at once, the model after', async ({
  app: { page },
}) => {
  await waitForPrompt(page)
  await typeInTerminal(page, "printf '%s\\n' 'find . -name \"*.log\" -delete'\n")
  const row = page
    .locator('.terminal-pane:not([hidden]) .xterm-rows > div')
    .filter({ hasText: /^find \. -name "\*\.log" -delete\s*$/ })
  await expect(row).toHaveCount(1)
  // Select the output line with the mouse, as a user would.
  const box = (await row.boundingBox())!
  await page.mouse.move(box.x + 2, box.y + box.height / 2)
  await page.mouse.down()
  await page.mouse.move(box.x + box.width - 2, box.y + box.height / 2, { steps: 5 })
  await page.mouse.up()
  await page.keyboard.press('Control+Shift+E')
  const panel = page.getByTestId('explain-panel')
  await expect(panel).toBeVisible()
  const table = panel.getByRole('table', { name: 'Structure of the command' })
  await expect(table).toContainText('find')
  await expect(table).toContainText('-delete')
  await expect(panel.getByText(/High risk|Moderate|Critical/).first()).toBeVisible()
  // The model's explanation streams in after (random weights: any text, even none, but a real
  // answer from the model).
  await expect(panel.locator('.explain-model')).toHaveAttribute('data-state', 'done', {
    timeout: 60_000,
  })
  await expect(panel.getByTestId('explain-text')).toBeVisible()
  await shot(page, 'explain-panel')
})
