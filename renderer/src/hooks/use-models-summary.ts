import { useEffect, useState } from 'react'
import type { LlmResults, LlmState } from '../../../contract'
import type { Api } from '../api/client'

export type ModelsSummary = Pick<LlmResults['models:list'], 'active' | 'recommended'> & {
  /** The recommended model's display name. */
  recommendedName: string | null
}

/**
 * Which model is active (on disk, whether loaded or not) and which one main recommends, fetched
 * again whenever the engine's state changes (a download, an import, a deletion, a switch): the
 * first-run card, the palette's hint and the model manager then name the same models.
 */
export function useModelsSummary(api: Api, llm: LlmState | null): ModelsSummary | null {
  const [summary, setSummary] = useState<ModelsSummary | null>(null)
  const key = `${llm?.state}:${llm?.model?.path ?? llm?.model?.id ?? ''}`
  useEffect(() => {
    let live = true
    api.call('models:list', {}).then(
      (list) =>
        live &&
        setSummary({
          active: list.active,
          recommended: list.recommended,
          recommendedName: list.catalog.find((m) => m.id === list.recommended)?.name ?? null,
        }),
      () => undefined,
    )
    return () => {
      live = false
    }
  }, [api, key])
  return summary
}
