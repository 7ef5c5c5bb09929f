import { createRequire } from 'node:module'
import type { Page } from '@playwright/test'
import { ensureFixtureModel } from '../scripts/fixture-model'
import { expect, terminalText, test } from './fixtures'

// axe-core is injected as a script, which the app's CSP forbids: this test alone bypasses it.
test.use({ bypassCSP: true })

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js')

interface Violation {
  id: string
  impact: string | null
  help: string
  nodes: Array<{ target: string[] }>
}

async function seriousViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: axePath })
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: Violation[] }> }
      }
    ).axe
    // xterm's own DOM (rows, helper textarea) is a third-party widget: checked by xterm upstream.
    const result = await axe.run(
      { exclude: [['.xterm']] },
      { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } },
    )
    return result.violations
  })
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`)
}

test('the main screen and every panel have no serious WCAG 2.1 AA violations', async ({
  app: { page },
}) => {
  await expect(page.locator('.terminal-pane:not([hidden]) .xterm')).toBeVisible()
  expect(await seriousViolations(page)).toEqual([])

  await page.keyboard.press('Control+k')
  await expect(page.getByTestId('palette')).toBeVisible()
  expect(await seriousViolations(page)).toEqual([])
  await page.keyboard.press('Escape')

  await page.getByRole('button', { name: 'Settings' }).click()
  await expect(page.getByRole('dialog', { name: /settings/i })).toBeVisible()
  expect(await seriousViolations(page)).toEqual([])
  await page.keyboard.press('Escape')

  await page.getByRole('button', { name: 'Models' }).click()
  await expect(page.getByRole('dialog', { name: /models/i })).toBeVisible()
  // The catalog (badges, fit hints) is on screen before the check.
  await expect(page.getByRole('listitem', { name: /Qwen2\.5-Coder 0\.5B/ })).toBeVisible()
  expect(await seriousViolations(page)).toEqual([])
  await page.keyboard.press('Escape')

  await page.keyboard.press('Control+r')
  await expect(page.getByTestId('history-panel')).toBeVisible()
  expect(await seriousViolations(page)).toEqual([])
})

test.describe('with a model', () => {
  test.use({ serveEnv: { CMDAI_MODEL: ensureFixtureModel('tiny') } })
  test.describe.configure({ timeout: 240_000 })

  test('the suggestion card (edited, confirming) and the model manager have no serious violations', async ({
    app: { page },
  }) => {
    await expect.poll(() => terminalText(page), { timeout: 30_000 }).toContain('@cmdai:')
    await expect(page.getByTestId('status-db')).toHaveText('history: ready', { timeout: 120_000 })
    await page.keyboard.press('Control+k')
    await page.keyboard.type('list the files here')
    await page.keyboard.press('Enter')
    const card = page.getByTestId('suggestion-card')
    await expect(card).toBeVisible({ timeout: 60_000 })
    await expect(card).not.toHaveAttribute('data-streaming', 'true', { timeout: 60_000 })
    expect(await seriousViolations(page)).toEqual([])

    await page.keyboard.press('e')
    const editor = page.getByRole('textbox', { name: 'Edit the command' })
    await editor.fill('git push --force origin main')
    await expect(card).toHaveAttribute('data-risk', 'high')
    await editor.press('Enter')
    await expect(
      page.getByRole('alertdialog', { name: 'Confirm a high-risk command' }),
    ).toBeVisible()
    expect(await seriousViolations(page)).toEqual([])
    await editor.fill('sudo rm -rf --no-preserve-root /')
    await expect(page.getByTestId('card-blocked')).toBeVisible()
    expect(await seriousViolations(page)).toEqual([])
    await page.keyboard.press('Escape')
    await page.keyboard.press('Escape')

    await page.getByRole('button', { name: 'Models' }).click()
    const dialog = page.getByRole('dialog', { name: 'Models' })
    await dialog.getByLabel('Model URI or URL').fill('http://127.0.0.1:9/refused.gguf')
    await dialog.getByRole('button', { name: 'Download', exact: true }).click()
    await expect(dialog.locator('.cm-download[data-status="error"]')).toBeVisible({
      timeout: 20_000,
    })
    expect(await seriousViolations(page)).toEqual([])
  })
})
