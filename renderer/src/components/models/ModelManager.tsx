import { useCallback, useEffect, useRef, useState } from 'react'
import type { AppInfo } from '../../../../contract/app'
import type { CatalogModel, LlmResults, ModelInfo } from '../../../../contract/llm'
import { errorMessage, type Api } from '../../api/client'
import { useSettings } from '../../hooks/use-settings'
import { Dialog } from '../settings/Dialog'
import { BackendSection } from './BackendSection'
import { DownloadBar } from './DownloadBar'
import { formatBytes, formatGb, formatMs, ramFit } from './format'
import { ImportForm } from './ImportForm'
import { PullForm } from './PullForm'
import { barActions, useDownloads } from './use-downloads'

export interface RequestTiming {
  totalMs: number
  firstTokenMs: number
  model: string
}

interface Props {
  api: Api
  onClose(): void
  /** Measured speed of the last requests, newest first. */
  recentTimings?: RequestTiming[]
  /** Opens Settings at Privacy (remote backends are turned on there). */
  onOpenSettings?(): void
}

type ModelList = LlmResults['models:list']

/** The model manager: catalog, downloads, installed models, import and the backend. */
export function ModelManager({ api, onClose, recentTimings, onOpenSettings }: Props) {
  const [list, setList] = useState<ModelList | null>(null)
  const [listError, setListError] = useState<string | null>(null)
  const [info, setInfo] = useState<AppInfo | null>(null)
  const { snapshot, update } = useSettings(api)

  const refresh = useCallback(() => {
    api.call('models:list', {}).then(
      (next) => {
        setList(next)
        setListError(null)
      },
      (err: unknown) => setListError(errorMessage(err)),
    )
  }, [api])

  useEffect(() => {
    refresh()
    api.call('app:info', {}).then(setInfo, () => undefined)
  }, [api, refresh])

  const downloads = useDownloads(api, refresh)
  const memory = info?.totalMemoryGb ?? null
  // The recommendation is main's (the same rule picks the default model when nothing is set).
  const recommended = list?.catalog.find((m) => m.id === list.recommended) ?? null

  return (
    <Dialog title="Models" onClose={onClose} className="cm-models">
      {listError && (
        <p className="cm-error" role="alert">
          Could not list models: {listError}
        </p>
      )}
      <section aria-labelledby="cm-installed-h">
        <h3 id="cm-installed-h">Installed</h3>
        {list && <Installed api={api} list={list} onChanged={refresh} />}
        {!list && !listError && <p className="cm-muted">Loading…</p>}
      </section>

      <section aria-labelledby="cm-catalog-h">
        <h3 id="cm-catalog-h">Catalog</h3>
        {memory !== null && (
          <p className="cm-hint">
            This machine has {formatGb(Math.round(memory * 10) / 10)} of RAM
            {info ? ` and ${info.cpuCount} CPU cores` : ''}.
          </p>
        )}
        <ul className="cm-list">
          {list?.catalog.map((model) => (
            <CatalogRow
              key={model.id}
              model={model}
              memory={memory}
              recommended={recommended?.id === model.id}
              installed={list.models.some((m) => m.origin === 'catalog' && m.id === model.id)}
              downloads={downloads}
            />
          ))}
        </ul>
      </section>

      <section aria-labelledby="cm-pull-h">
        <h3 id="cm-pull-h">Download from a URL</h3>
        <PullForm downloads={downloads} catalogUris={list?.catalog.map((m) => m.uri) ?? []} />
      </section>

      <section aria-labelledby="cm-import-h">
        <h3 id="cm-import-h">Import a GGUF file</h3>
        <ImportForm api={api} host={info?.host ?? null} onImported={refresh} />
      </section>

      <section aria-labelledby="cm-backend-h">
        <h3 id="cm-backend-h">Backend</h3>
        <BackendSection
          api={api}
          snapshot={snapshot}
          update={update}
          onOpenSettings={onOpenSettings}
        />
      </section>

      <section aria-labelledby="cm-speed-h">
        <h3 id="cm-speed-h">Last requests</h3>
        {recentTimings && recentTimings.length > 0 ? (
          <table className="cm-table">
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">First token</th>
                <th scope="col">Complete</th>
              </tr>
            </thead>
            <tbody>
              {recentTimings.map((t, i) => (
                <tr key={i}>
                  <td className="cm-mono">{t.model}</td>
                  <td className="cm-num">{formatMs(t.firstTokenMs)}</td>
                  <td className="cm-num">{formatMs(t.totalMs)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p className="cm-muted">No requests yet in this session.</p>
        )}
      </section>
    </Dialog>
  )
}

function CatalogRow(props: {
  model: CatalogModel
  memory: number | null
  recommended: boolean
  installed: boolean
  downloads: ReturnType<typeof useDownloads>
}) {
  const { model, downloads } = props
  const entry = downloads.entries[model.uri]
  const fit = ramFit(model, props.memory)
  const tooBig = props.memory !== null && model.ramGb > props.memory
  return (
    <li className="cm-item" aria-label={model.name}>
      <div className="cm-item-head">
        <strong>{model.name}</strong>
        {props.recommended && <span className="cm-badge cm-badge-accent">Recommended</span>}
        {props.installed && <span className="cm-badge">Installed</span>}
      </div>
      <div className="cm-item-facts">
        <span>{formatBytes(model.sizeBytes)} download</span>
        <span>{formatGb(model.ramGb)} RAM</span>
        <span>{model.licence}</span>
        {fit && <span className={tooBig ? 'cm-warn' : 'cm-fit'}>{fit}</span>}
      </div>
      <p className="cm-notes">{model.notes}</p>
      {entry ? (
        <DownloadBar
          entry={entry}
          name={model.name}
          expectedBytes={model.sizeBytes}
          {...barActions(downloads, model.uri)}
        />
      ) : (
        !props.installed && (
          <button
            type="button"
            className="cm-primary"
            aria-label={`Download ${model.name}`}
            onClick={() => downloads.start(model.uri)}
          >
            Download
          </button>
        )
      )}
    </li>
  )
}

function Installed({ api, list, onChanged }: { api: Api; list: ModelList; onChanged(): void }) {
  const [confirming, setConfirming] = useState<string | null>(null)
  const [errors, setErrors] = useState<Record<string, string>>({})
  const [busy, setBusy] = useState<string | null>(null)
  // Where the keyboard goes when the focused button goes away (Use turns into "In use", a
  // deleted row disappears): the sentence that says which model is active now.
  const summary = useRef<HTMLParagraphElement>(null)

  const act = async (model: ModelInfo, action: () => Promise<unknown>) => {
    setBusy(model.id)
    setErrors(({ [model.id]: _, ...rest }) => rest)
    try {
      await action()
      setConfirming(null)
      onChanged()
      summary.current?.focus()
    } catch (err) {
      setErrors((e) => ({ ...e, [model.id]: errorMessage(err) }))
    } finally {
      setBusy(null)
    }
  }

  const active = list.active
  const chatModels = list.models.filter((m) => m.kind !== 'embedding')
  return (
    <>
      <p
        className="cm-hint"
        ref={summary}
        tabIndex={-1}
        aria-live="polite"
        data-testid="active-model"
      >
        {active ? (
          <>
            Active: <span className="cm-mono">{active.id}</span> ({active.reason}).
            {active.source === 'env' &&
              ' CMDAI_MODEL takes precedence over the choice made here until it is unset.'}
          </>
        ) : (
          'No model is active yet. Download one below or import a GGUF file; until then the palette answers from history.'
        )}
      </p>
      {list.models.length === 0 ? (
        <p className="cm-muted">No models in the models folder.</p>
      ) : (
        <ul className="cm-list">
          {list.models.map((model) => (
            <li key={model.id} className="cm-item" aria-label={model.name}>
              <div className="cm-item-head">
                <strong>{model.name}</strong>
                <span className="cm-badge">
                  {model.origin === 'catalog' ? 'catalog' : 'imported'}
                </span>
                {model.kind === 'embedding' && <span className="cm-badge">semantic search</span>}
                {model.active && <span className="cm-badge cm-badge-accent">Active</span>}
                <span className="cm-num cm-item-size">{formatBytes(model.sizeBytes)}</span>
              </div>
              <div className="cm-row">
                {/* An embedding model serves history search (from the next start), never chat. */}
                {model.kind !== 'embedding' && (
                  <button
                    type="button"
                    disabled={model.active || busy === model.id}
                    aria-label={`Use ${model.name}`}
                    onClick={() =>
                      void act(model, () => api.call('models:setActive', { id: model.id }))
                    }
                  >
                    {model.active ? 'In use' : 'Use'}
                  </button>
                )}
                {confirming === model.id ? (
                  <span
                    className="cm-confirm"
                    role="group"
                    aria-label={`Confirm deleting ${model.name}`}
                  >
                    <span>
                      {model.active &&
                        (chatModels.length > 1
                          ? 'This is the model in use: another installed model takes over. '
                          : 'This is the model in use: without it, no model is active until you download or import one. ')}
                      Delete {formatBytes(model.sizeBytes)} from disk?
                    </span>
                    <button
                      type="button"
                      className="cm-danger"
                      disabled={busy === model.id}
                      onClick={() =>
                        void act(model, () => api.call('models:remove', { id: model.id }))
                      }
                    >
                      Delete for good
                    </button>
                    <button type="button" onClick={() => setConfirming(null)}>
                      Keep
                    </button>
                  </span>
                ) : (
                  <button
                    type="button"
                    aria-label={`Delete ${model.name}`}
                    onClick={() => setConfirming(model.id)}
                  >
                    Delete
                  </button>
                )}
              </div>
              {errors[model.id] && (
                <p className="cm-error" role="alert">
                  {errors[model.id]}
                </p>
              )}
            </li>
          ))}
        </ul>
      )}
    </>
  )
}
