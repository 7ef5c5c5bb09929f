import type { Domain, DomainDeps } from '../domain'
import { llmSettingsSchema } from '../llm/settings'
import { SettingsStore } from './settings-store'

export function createSettingsStore(dataDir: string): SettingsStore {
  // The model engine owns the llm section's schema; the store applies it before any write.
  return new SettingsStore(dataDir, (llm) => {
    const parsed = llmSettingsSchema.safeParse(llm)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      throw new Error(`llm.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`)
    }
  })
}

export function createSettingsDomain(deps: DomainDeps): Domain {
  const store = createSettingsStore(deps.dataDir)
  const snapshot = (settings = store.read()) => ({
    settings,
    path: store.path,
    dataDir: deps.dataDir,
  })
  deps.router.handle('settings:get', () => snapshot())
  deps.router.handle('settings:update', (patch) => {
    const next = snapshot(store.update(patch))
    deps.events.emit('settings:changed', next)
    return next
  })
  return { name: 'settings', dispose() {} }
}
