import { createRequire } from 'node:module'
import type { Page } from '@playwright/test'
import { expect, test } from './fixtures'

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
  expect(await seriousViolations(page)).toEqual([])
  await page.keyboard.press('Escape')

  await page.keyboard.press('Control+r')
  await expect(page.getByTestId('history-panel')).toBeVisible()
  expect(await seriousViolations(page)).toEqual([])
})
