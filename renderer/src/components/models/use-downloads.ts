import { useCallback, useEffect, useRef, useState } from 'react'
import type { DownloadProgress, ModelInfo } from '../../../../contract/llm'
import { errorMessage, type Api } from '../../api/client'

export interface DownloadEntry {
  downloadId: string
  uri: string
  /** The latest snapshot from `models:progress`; null until the first one arrives. */
  progress: DownloadProgress | null
  /** `paused`: stopped with its partial file kept; pulling the same uri again resumes it. */
  status: 'running' | 'paused' | 'error'
  error: string | null
}

export interface Downloads {
  /** Downloads this screen knows of, keyed by uri (also those another screen started). */
  entries: Record<string, DownloadEntry>
  start(uri: string): void
  /** Stops the download and keeps the partial file so that `resume` continues from there. */
  pause(uri: string): void
  resume(uri: string): void
  /** Stops the download and forgets it here (the partial file stays; a new pull resumes it). */
  cancel(uri: string): void
}

/** The pause/resume/cancel handlers of a `DownloadBar` for one download. */
export function barActions(downloads: Downloads, uri: string) {
  return {
    onPause: () => downloads.pause(uri),
    onResume: () => downloads.resume(uri),
    onCancel: () => downloads.cancel(uri),
  }
}

type StopIntent = 'pause' | 'cancel'

/**
 * Download state for the model screens. Progress comes from `models:progress` snapshots, so a
 * download started on one screen shows up on another as soon as its next snapshot arrives.
 */
export function useDownloads(api: Api, onFinished?: (model: ModelInfo | null) => void): Downloads {
  const [entries, setEntries] = useState<Record<string, DownloadEntry>>({})
  const stopped = useRef(new Map<string, StopIntent>())
  const finished = useRef(onFinished)
  useEffect(() => {
    finished.current = onFinished
  }, [onFinished])

  const patch = useCallback(
    (uri: string, change: (e: DownloadEntry | undefined) => DownloadEntry | null) => {
      setEntries((current) => {
        const next = change(current[uri])
        if (next === current[uri]) return current
        const copy = { ...current }
        if (next) copy[uri] = next
        else delete copy[uri]
        return copy
      })
    },
    [],
  )

  useEffect(
    () =>
      api.on('models:progress', (progress) => {
        const intent = stopped.current.get(progress.downloadId)
        if (progress.state === 'done') {
          patch(progress.uri, (e) => (e && e.downloadId !== progress.downloadId ? e : null))
          finished.current?.(null)
          return
        }
        patch(progress.uri, (e) => {
          // Snapshots of a download this screen stopped, or of an older attempt, change nothing.
          if (e && e.downloadId !== progress.downloadId && e.status === 'running') return e
          if (intent === 'cancel') return null
          if (intent === 'pause' || progress.state === 'cancelled') {
            return { ...(e ?? base(progress)), progress, status: 'paused', error: null }
          }
          if (progress.state === 'error') {
            const message = progress.error?.message ?? 'The download failed'
            return { ...(e ?? base(progress)), progress, status: 'error', error: message }
          }
          return { ...(e ?? base(progress)), downloadId: progress.downloadId, progress }
        })
      }),
    [api, patch],
  )

  const start = useCallback(
    (uri: string) => {
      const downloadId = crypto.randomUUID()
      patch(uri, (e) => ({
        downloadId,
        uri,
        // Keep the bytes of a paused download on screen until the resumed one reports.
        progress: e?.progress ? { ...e.progress, downloadId, state: 'checking' } : null,
        status: 'running',
        error: null,
      }))
      api.call('models:pull', { uri, downloadId }).then(
        (model) => {
          patch(uri, (e) => (e?.downloadId === downloadId ? null : (e ?? null)))
          finished.current?.(model)
        },
        (err: unknown) => {
          const intent = stopped.current.get(downloadId)
          const cancelled = isCancelled(err)
          patch(uri, (e) => {
            if (!e || e.downloadId !== downloadId) return e ?? null
            if (intent === 'cancel') return null
            if (intent === 'pause' || cancelled) return { ...e, status: 'paused', error: null }
            return { ...e, status: 'error', error: errorMessage(err) }
          })
        },
      )
    },
    [api, patch],
  )

  const stop = useCallback(
    (uri: string, intent: StopIntent) => {
      const entry = entries[uri]
      if (!entry) return
      stopped.current.set(entry.downloadId, intent)
      if (intent === 'cancel') patch(uri, () => null)
      else patch(uri, (e) => (e ? { ...e, status: 'paused' } : null))
      if (entry.status === 'running') {
        api
          .call('models:cancelDownload', { downloadId: entry.downloadId })
          .catch((err: unknown) => {
            patch(uri, (e) => (e ? { ...e, status: 'error', error: errorMessage(err) } : null))
          })
      }
    },
    [api, entries, patch],
  )

  const pause = useCallback((uri: string) => stop(uri, 'pause'), [stop])
  const cancel = useCallback((uri: string) => stop(uri, 'cancel'), [stop])
  return { entries, start, pause, resume: start, cancel }
}

function base(progress: DownloadProgress): DownloadEntry {
  return {
    downloadId: progress.downloadId,
    uri: progress.uri,
    progress,
    status: 'running',
    error: null,
  }
}

function isCancelled(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === 'cancelled'
}
