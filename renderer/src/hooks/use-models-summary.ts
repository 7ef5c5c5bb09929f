import { useEffect, useState } from 'react'
import type { LlmResults } from '../../../contract'
import type { Api } from '../api/client'

export type ModelsSummary = Pick<LlmResults['models:list'], 'active' | 'recommended'> & {
  /** The recommended model's display name. */
  recommendedName: string | null
}

/**
 * Which model is active (on disk, whether loaded or not) and which one main recommends, asked
 * again after every `llm:state` snapshot (main sends one whenever models are downloaded, imported
 * or deleted, and whenever the engine loads or unloads): the first-run card, the palette's hint
 * and the model manager then name the same models.
 */
export function useModelsSummary(api: Api): ModelsSummary | null {
  const [summary, setSummary] = useState<ModelsSummary | null>(null)
  useEffect(() => {
    let live = true
    let seq = 0
    let timer: ReturnType<typeof setTimeout> | undefined
    const refresh = () => {
      const mine = ++seq
      api.call('models:list', {}).then(
        (list) =>
          live &&
          mine === seq &&
          setSummary({
            active: list.active,
            recommended: list.recommended,
            recommendedName: list.catalog.find((m) => m.id === list.recommended)?.name ?? null,
          }),
        () => undefined,
      )
    }
    refresh()
    const off = api.on('llm:state', () => {
      clearTimeout(timer)
      timer = setTimeout(refresh, 50)
    })
    return () => {
      live = false
      clearTimeout(timer)
      off()
    }
  }, [api])
  return summary
}
