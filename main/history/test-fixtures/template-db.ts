import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { redactForHistory } from '../redact'
import { HistoryStore } from '../store'

/**
 * One real, empty history database made once (initdb takes seconds, tens of seconds on a busy
 * machine), copied for each test that needs its own: `fresh('name')` returns the `history` folder
 * of a new data directory holding a copy.
 */
export async function createTemplate(prefix: string) {
  const root = mkdtempSync(join(tmpdir(), prefix))
  const template = join(root, 'template', 'history')
  const store = await HistoryStore.open({ dir: template, redact: redactForHistory })
  await store.close()
  return {
    root,
    fresh(name: string): string {
      const dataDir = join(root, name)
      mkdirSync(dataDir, { recursive: true, mode: 0o700 })
      cpSync(template, join(dataDir, 'history'), { recursive: true })
      return join(dataDir, 'history')
    },
    open(dir: string, options: Partial<Parameters<typeof HistoryStore.open>[0]> = {}) {
      return HistoryStore.open({ dir, redact: redactForHistory, ...options })
    },
    remove() {
      rmSync(root, { recursive: true, force: true })
    },
  }
}
