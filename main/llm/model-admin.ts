import type { ActiveModel } from '../../contract'
import type { LlmEngine } from './engine'
import { writeLlmSettings } from './settings'

export interface RemovedModel {
  removed: boolean
  /** Whether it was the model in use (active or loaded). */
  wasActive: boolean
  /** The model in use after the removal (null: none; or the setting/CMDAI_MODEL names no file). */
  nowActive: ActiveModel | null
}

/**
 * Deletes a model the way the app and the CLI both must: when it is the model in use, unload it
 * first and forget a setting that named it, so the next model on disk (if any) takes over and no
 * part of the app keeps naming a file that is gone.
 */
export async function removeModel(
  engine: LlmEngine,
  dataDir: string,
  id: string,
): Promise<RemovedModel> {
  const path = engine.store.resolve(id)
  const wasActive =
    path !== null && (path === activeOf(engine)?.path || path === engine.status().model?.path)
  if (wasActive) await engine.unload()
  const removed = await engine.store.remove(id)
  if (removed && wasActive) {
    const setting = engine.config.model
    if (setting && !engine.store.resolve(setting)) writeLlmSettings(dataDir, { model: undefined })
    engine.reloadSettings()
  }
  return { removed, wasActive, nowActive: activeOf(engine) }
}

/** The active model, or null when there is none or it cannot be resolved. */
export function activeOf(engine: LlmEngine): ActiveModel | null {
  try {
    return engine.resolveActive()
  } catch {
    return null
  }
}
