import { useCallback, useEffect, useState } from 'react'
import type { SettingsPatch, SettingsSnapshot } from '../../../contract/settings'
import { errorMessage, type Api } from '../api/client'

export interface UseSettings {
  /** The validated settings with defaults filled in; null until the first answer. */
  snapshot: SettingsSnapshot | null
  /** Why the settings could not be read (a broken settings.json, a lost connection). */
  error: string | null
  /** Saves a patch; rejects with the server's error (CmdaiError) and changes nothing then. */
  update(patch: SettingsPatch): Promise<void>
}

/** Loads the settings once and follows `settings:changed` (from any window or the CLI). */
export function useSettings(api: Api): UseSettings {
  const [snapshot, setSnapshot] = useState<SettingsSnapshot | null>(null)
  const [error, setError] = useState<string | null>(null)

  useEffect(() => {
    let live = true
    const off = api.on('settings:changed', (next) => {
      setSnapshot(next)
      setError(null)
    })
    api.call('settings:get', {}).then(
      (first) => {
        // An event may have landed first: it is at least as new as this answer.
        if (live) setSnapshot((current) => current ?? first)
      },
      (err: unknown) => {
        if (live) setError(errorMessage(err))
      },
    )
    return () => {
      live = false
      off()
    }
  }, [api])

  const update = useCallback(
    async (patch: SettingsPatch) => {
      const next = await api.call('settings:update', patch)
      setSnapshot(next)
      setError(null)
    },
    [api],
  )

  return { snapshot, error, update }
}
