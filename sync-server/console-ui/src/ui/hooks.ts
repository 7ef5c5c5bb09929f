import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react'
import { ApiError } from '../api'

export interface Loaded<T> {
  data: T | null
  error: string | null
  loading: boolean
  reload(): void
}

/** Loads `fn()` now and whenever `key` changes; `reload` loads again. */
export function useLoad<T>(fn: () => Promise<T>, key: string): Loaded<T> {
  const [tick, setTick] = useState(0)
  const want = `${key}\u0000${tick}`
  const [state, setState] = useState<{ key: string; data: T | null; error: string | null }>({
    key: '',
    data: null,
    error: null,
  })
  const fnRef = useRef(fn)
  useLayoutEffect(() => {
    fnRef.current = fn
  })
  useEffect(() => {
    let live = true
    fnRef.current().then(
      (data) => live && setState({ key: want, data, error: null }),
      (err: unknown) => live && setState((s) => ({ ...s, key: want, error: message(err) })),
    )
    return () => {
      live = false
    }
  }, [want])
  const reload = useCallback(() => setTick((t) => t + 1), [])
  return { data: state.data, error: state.error, loading: state.key !== want, reload }
}

export function message(err: unknown): string {
  if (err instanceof ApiError) return err.message
  if (err instanceof Error) return err.message
  return String(err)
}

/** Runs an action, tracking busy state and the last error or success message. */
export function useAction() {
  const [busy, setBusy] = useState(false)
  const [note, setNote] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null)
  const run = useCallback(async <T>(fn: () => Promise<T>, ok?: string): Promise<T | undefined> => {
    setBusy(true)
    setNote(null)
    try {
      const out = await fn()
      if (ok) setNote({ kind: 'ok', text: ok })
      return out
    } catch (err) {
      setNote({ kind: 'error', text: message(err) })
      return undefined
    } finally {
      setBusy(false)
    }
  }, [])
  return { busy, note, run, setNote }
}
