import { useEffect, useId, useState } from 'react'
import type { ActiveModel, LlmResults } from '../../../../contract/llm'
import type { Settings } from '../../../../contract/settings'
import { errorMessage, type Api } from '../../api/client'
import { DownloadBar } from '../models/DownloadBar'
import { formatBytes, formatGb } from '../models/format'
import { barActions, useDownloads } from '../models/use-downloads'
import '../panels.css'

type ModelList = LlmResults['models:list']

/**
 * Whether to show the first-run card: not dismissed yet, no chat model in the models folder (an
 * embedding model for semantic search does not count), and no active model from elsewhere
 * (CMDAI_MODEL pointing at a file, or a remote endpoint).
 */
export function shouldShowFirstRun(settings: Settings, modelsList: ModelList): boolean {
  const noChatModel = modelsList.models.every((m) => m.kind === 'embedding')
  return !settings.onboarding.dismissed && noChatModel && !modelsList.active
}

interface Props {
  api: Api
  /** The model in use (from the engine's state): once there is one, the card stops offering one. */
  active?: ActiveModel | null
  /** Called once the card should go (after "Not now" was saved, or once a model is installed). */
  onDismiss(): void
  onOpenModels(): void
}

/** A small card over the terminal (not modal): proposes the right model and downloads it. */
export function FirstRun({ api, active, onDismiss, onOpenModels }: Props) {
  const [list, setList] = useState<ModelList | null>(null)
  const [memory, setMemory] = useState<number | null>(null)
  const [error, setError] = useState<string | null>(null)
  const titleId = useId()

  useEffect(() => {
    let live = true
    Promise.all([api.call('models:list', {}), api.call('app:info', {})]).then(
      ([models, info]) => {
        if (!live) return
        setList(models)
        setMemory(info.totalMemoryGb)
      },
      (err: unknown) => live && setError(errorMessage(err)),
    )
    return () => {
      live = false
    }
  }, [api])

  // Once a model is in use (this card's download, or one from anywhere else), `active` says so.
  const downloads = useDownloads(api)

  // main's recommendation: the same model the engine picks by default and the palette names.
  const model = list?.catalog.find((m) => m.id === list.recommended) ?? null
  const entry = model ? downloads.entries[model.uri] : undefined

  const notNow = async () => {
    setError(null)
    try {
      await api.call('settings:update', { onboarding: { dismissed: true } })
      onDismiss()
    } catch (err) {
      setError(errorMessage(err))
    }
  }

  return (
    <aside className="cm-firstrun" aria-labelledby={titleId}>
      <h2 id={titleId}>Your terminal is ready</h2>
      {active ? (
        <p role="status">{active.id} is ready. Press Ctrl/Cmd+K and say what you want to do.</p>
      ) : (
        <>
          <p>
            cmdai suggests commands with a model that runs on this machine. Until one is here, the
            palette (Ctrl/Cmd+K) answers from your history.
          </p>
          {model && memory !== null && (
            <p className="cm-firstrun-model">
              Recommended for {formatGb(Math.round(memory))} of RAM: <strong>{model.name}</strong>{' '}
              <span className="cm-muted">
                ({formatBytes(model.sizeBytes)}, {model.licence})
              </span>
            </p>
          )}
          {model && entry && (
            <DownloadBar
              compact
              entry={entry}
              name={model.name}
              expectedBytes={model.sizeBytes}
              {...barActions(downloads, model.uri)}
            />
          )}
          {entry?.status === 'running' && (
            <p className="cm-hint">Downloading in the background; keep using the terminal.</p>
          )}
        </>
      )}
      {error && (
        <p className="cm-error" role="alert">
          {error}
        </p>
      )}
      <div className="cm-row">
        {active ? (
          <button type="button" className="cm-primary" onClick={() => void notNow()}>
            Done
          </button>
        ) : (
          <>
            {model && !entry && (
              <button
                type="button"
                className="cm-primary"
                aria-label={`Download ${formatBytes(model.sizeBytes)}: ${model.name}`}
                onClick={() => downloads.start(model.uri)}
              >
                Download {formatBytes(model.sizeBytes)}
              </button>
            )}
            <button type="button" onClick={onOpenModels}>
              Choose another model
            </button>
            <button type="button" onClick={() => void notNow()}>
              Not now
            </button>
          </>
        )}
      </div>
    </aside>
  )
}
