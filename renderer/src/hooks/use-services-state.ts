import { useEffect, useState } from 'react'
import type { HistoryStatus, LlmState } from '../../../contract'
import type { Api } from '../api/client'

/** The model engine's state: a snapshot on start, then `llm:state` events. */
export function useLlmState(api: Api): LlmState | null {
  const [state, setState] = useState<LlmState | null>(null)
  useEffect(() => {
    let live = true
    const off = api.on('llm:state', (s) => live && setState(s))
    api.call('llm:status', {}).then(
      (s) => live && setState((prev) => prev ?? s),
      () => undefined,
    )
    return () => {
      live = false
      off()
    }
  }, [api])
  return state
}

/** The history database's state; polled while it opens (opening takes seconds on first run). */
export function useHistoryStatus(api: Api): HistoryStatus | null {
  const [status, setStatus] = useState<HistoryStatus | null>(null)
  useEffect(() => {
    let live = true
    let timer: ReturnType<typeof setTimeout> | undefined
    const poll = () => {
      api.call('history:status', {}).then(
        (s) => {
          if (!live) return
          setStatus(s)
          if (s.state === 'opening') timer = setTimeout(poll, 500)
        },
        () =>
          live &&
          setStatus({
            state: 'failed',
            message: 'history unavailable',
            openMs: null,
            schemaVersion: null,
          }),
      )
    }
    poll()
    // Later changes (a failed open, a reopen after repair) come as events.
    const off = api.on('history:state', (s) => live && setStatus(s))
    return () => {
      live = false
      clearTimeout(timer)
      off()
    }
  }, [api])
  return status
}
