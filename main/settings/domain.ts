import { CmdaiError } from '../../contract'
import type { Domain, DomainDeps } from '../domain'
import { validateLlmSection } from '../llm/settings'
import { SettingsStore } from './settings-store'
import { checkSettingsPatch } from './validate'

export function createSettingsStore(dataDir: string): SettingsStore {
  // The model engine owns the llm section's schema; the store applies it before any write.
  return new SettingsStore(dataDir, validateLlmSection)
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
    const checked = checkSettingsPatch(patch, store.read(), deps.env)
    if (checked.problems.length > 0)
      throw new CmdaiError('invalid_input', checked.problems.map((p) => p.message).join('; '))
    const next = snapshot(store.update(checked.patch))
    deps.events.emit('settings:changed', next)
    return next
  })
  return { name: 'settings', dispose() {} }
}
