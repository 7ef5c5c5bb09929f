import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { serveFile, type FileServer } from '../main/llm/testing/file-server'
import { ensureFixtureModel } from '../scripts/fixture-model'
import { expect, shot, test } from './fixtures'

let files: FileServer

test.beforeAll(async () => {
  // A loopback "model host": the tiny fixture, sent slowly enough to watch the progress bar.
  files = await serveFile(ensureFixtureModel('tiny'), { chunkBytes: 256 * 1024, chunkDelayMs: 60 })
})
test.afterAll(async () => files.close())

test('first run proposes a model; the model manager downloads one with real progress', async ({
  app: { page },
}) => {
  const firstRun = page.getByRole('region', { name: /terminal is ready/i })
  await expect(firstRun.or(page.getByText(/terminal is ready/i)).first()).toBeVisible()
  await shot(page, 'first-run')

  await page.getByRole('button', { name: 'Models' }).click()
  const dialog = page.getByRole('dialog', { name: /models/i })
  await expect(dialog).toBeVisible()
  await dialog.getByLabel('Model URI or URL').fill(`${files.url}/tiny-fixture.gguf`)
  await dialog.getByRole('button', { name: 'Download', exact: true }).click()
  const bar = dialog.getByRole('progressbar').first()
  await expect(bar).toBeVisible()
  await expect(dialog).toContainText(/Downloading.*\d+(\.\d+)? MB \/ 1\d(\.\d+)? MB/)
  await bar.scrollIntoViewIfNeeded()
  await shot(page, 'model-manager-downloading')
  await expect(dialog.getByRole('region', { name: 'Installed' })).toContainText(/tiny-fixture/, {
    timeout: 60_000,
  })
  await shot(page, 'model-manager-installed')
})

test('settings are validated and saved to the data directory', async ({
  app: { page, dataDir },
}) => {
  await page.getByRole('button', { name: 'Settings' }).click()
  const dialog = page.getByRole('dialog', { name: /settings/i })
  await expect(dialog).toBeVisible()
  // The radio is controlled by the saved settings: it turns on once the save is confirmed.
  const strict = dialog.getByRole('radio', { name: /strict/i })
  await strict.click()
  await expect(strict).toBeChecked()
  await expect(dialog.getByText('Saved')).toBeVisible()
  await shot(page, 'settings')
  const saved = JSON.parse(readFileSync(join(dataDir, 'settings.json'), 'utf8'))
  expect(saved.safety.level).toBe('strict')
})
