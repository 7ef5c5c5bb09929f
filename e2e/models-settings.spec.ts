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
  // The first open of the history database holds the server for a while on this machine: the
  // download's progress is what this journey watches, so it starts after that.
  await expect(page.getByTestId('status-db')).toHaveText('history: ready', { timeout: 90_000 })

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
  const installed = dialog.getByRole('region', { name: 'Installed' })
  await expect(installed).toContainText(/tiny-fixture/, { timeout: 60_000 })
  // One truth: the manager, the status bar and the first-run card name the same model.
  await expect(dialog.getByTestId('active-model')).toHaveText(
    'Active: tiny-fixture.gguf (the only model on disk).',
  )
  await expect(page.getByTestId('status-model')).toContainText('tiny-fixture.gguf', {
    timeout: 30_000,
  })
  await shot(page, 'model-manager-installed')

  // Deleting the model in use warns first, then nothing names the deleted file.
  await installed.getByRole('button', { name: 'Delete tiny-fixture' }).click()
  const confirm = installed.getByRole('group', { name: 'Confirm deleting tiny-fixture' })
  await expect(confirm).toContainText('This is the model in use')
  await shot(page, 'model-manager-delete-active')
  await confirm.getByRole('button', { name: 'Delete for good' }).click()
  await expect(dialog.getByTestId('active-model')).toContainText('No model is active yet')
  await expect(page.getByTestId('status-model')).toHaveText('model: none')
  await expect(installed).toContainText('No models in the models folder.')
  await page.keyboard.press('Escape')
  await expect(dialog).toBeHidden()
  // The first-run card offers a model again, as there is none.
  await expect(page.getByRole('button', { name: /^Download [\d.]+ [MG]B: / })).toBeVisible()
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
  await expect(dialog.getByRole('status')).toHaveText('Saved')
  await shot(page, 'settings')
  const saved = JSON.parse(readFileSync(join(dataDir, 'settings.json'), 'utf8'))
  expect(saved.safety.level).toBe('strict')
})
