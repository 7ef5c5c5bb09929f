import { useEffect, useId, useState, type FormEvent } from 'react'
import type { LlmBackendKind, LlmState } from '../../../../contract/llm'
import type { SettingsPatch, SettingsSnapshot } from '../../../../contract/settings'
import { errorMessage, type Api } from '../../api/client'

interface Props {
  api: Api
  snapshot: SettingsSnapshot | null
  update(patch: SettingsPatch): Promise<void>
  /** Opens Settings at Privacy, where remote backends are turned on. */
  onOpenSettings?(): void
}

interface OpenAiConfig {
  baseUrl: string
  model: string
  apiKeyEnv: string
}

const COMPUTE_WORDS: Record<string, string> = {
  cpu: 'CPU',
  cuda: 'CUDA (NVIDIA GPU)',
  vulkan: 'Vulkan (GPU)',
  metal: 'Metal (Apple GPU)',
  remote: 'Remote endpoint',
}

function readOpenAi(llm: Record<string, unknown> | undefined): OpenAiConfig {
  const raw = (llm?.openai ?? {}) as Partial<Record<keyof OpenAiConfig, unknown>>
  const text = (v: unknown, fallback = '') => (typeof v === 'string' ? v : fallback)
  return {
    baseUrl: text(raw.baseUrl),
    model: text(raw.model),
    apiKeyEnv: text(raw.apiKeyEnv, 'CMDAI_OPENAI_API_KEY'),
  }
}

/** The engine's live state and the choice between the in-process model and a remote endpoint. */
export function BackendSection({ api, snapshot, update, onOpenSettings }: Props) {
  const [state, setState] = useState<LlmState | null>(null)
  const [stateError, setStateError] = useState<string | null>(null)
  const [choice, setChoice] = useState<LlmBackendKind | null>(null)
  const [error, setError] = useState<string | null>(null)
  const noteId = useId()

  useEffect(() => {
    let live = true
    const off = api.on('llm:state', (next) => setState(next))
    api.call('llm:status', {}).then(
      (first) => live && setState((current) => current ?? first),
      (err: unknown) => live && setStateError(errorMessage(err)),
    )
    return () => {
      live = false
      off()
    }
  }, [api])

  const llm = snapshot?.settings.llm
  const saved: LlmBackendKind = llm?.backend === 'openai' ? 'openai' : 'local'
  const allowRemote = snapshot?.settings.privacy.allowRemoteBackends ?? false
  const selected = choice ?? saved

  const chooseLocal = async () => {
    setChoice('local')
    setError(null)
    if (saved === 'local') return
    try {
      await update({ llm: { backend: 'local' } })
    } catch (err) {
      setError(errorMessage(err))
    }
  }

  const saveRemote = async (config: OpenAiConfig) => {
    setError(null)
    try {
      await update({ llm: { backend: 'openai', openai: config } })
    } catch (err) {
      setError(errorMessage(err))
    }
  }

  return (
    <div className="cm-backend">
      <dl className="cm-facts" aria-live="polite">
        <dt>State</dt>
        <dd data-state={state?.state}>{state ? state.state : 'unknown'}</dd>
        <dt>Backend</dt>
        <dd>{state ? (state.backend === 'local' ? 'in-process' : 'OpenAI-compatible') : '–'}</dd>
        <dt>Model</dt>
        <dd>
          {state?.model ? (
            <>
              <span className="cm-mono">{state.model.id}</span>{' '}
              <span className="cm-muted">({state.model.reason})</span>
            </>
          ) : (
            'none'
          )}
        </dd>
        <dt>Compute</dt>
        <dd>{state?.compute ? (COMPUTE_WORDS[state.compute] ?? state.compute) : 'not loaded'}</dd>
      </dl>
      {state?.error && (
        <p className="cm-error" role="alert">
          {state.error.message}
        </p>
      )}
      {stateError && (
        <p className="cm-error" role="alert">
          {stateError}
        </p>
      )}

      <fieldset className="cm-fieldset">
        <legend>Where suggestions are generated</legend>
        <label className="cm-choice">
          <input
            type="radio"
            name="cm-backend"
            value="local"
            checked={selected === 'local'}
            onChange={() => void chooseLocal()}
          />
          In-process: the model runs on this machine; nothing leaves it
        </label>
        <label className="cm-choice">
          <input
            type="radio"
            name="cm-backend"
            value="openai"
            checked={selected === 'openai'}
            disabled={!allowRemote}
            aria-describedby={noteId}
            onChange={() => {
              setChoice('openai')
              setError(null)
            }}
          />
          OpenAI-compatible endpoint (remote)
        </label>
        <p id={noteId} className="cm-hint">
          {allowRemote ? (
            'Requests and the context allowed in Settings › Privacy are sent to this endpoint.'
          ) : (
            <>
              Remote backends are off. Turn them on in{' '}
              {onOpenSettings ? (
                <button type="button" className="cm-link" onClick={onOpenSettings}>
                  Settings › Privacy
                </button>
              ) : (
                'Settings › Privacy'
              )}
              .
            </>
          )}
        </p>
        {selected === 'openai' && allowRemote && (
          <OpenAiForm
            key={JSON.stringify(readOpenAi(llm))}
            initial={readOpenAi(llm)}
            active={saved === 'openai'}
            onSave={saveRemote}
          />
        )}
      </fieldset>
      {error && (
        <p className="cm-error" role="alert">
          {error}
        </p>
      )}
    </div>
  )
}

function OpenAiForm(props: {
  initial: OpenAiConfig
  active: boolean
  onSave(config: OpenAiConfig): Promise<void>
}) {
  const [config, setConfig] = useState(props.initial)
  const [busy, setBusy] = useState(false)
  const ids = { baseUrl: useId(), model: useId(), apiKeyEnv: useId() }
  const field = (key: keyof OpenAiConfig, label: string, placeholder: string, hint?: string) => (
    <div className="cm-field">
      <label htmlFor={ids[key]}>{label}</label>
      <input
        id={ids[key]}
        type="text"
        spellCheck={false}
        value={config[key]}
        placeholder={placeholder}
        onChange={(e) => setConfig({ ...config, [key]: e.target.value })}
      />
      {hint && <span className="cm-hint">{hint}</span>}
    </div>
  )
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setBusy(true)
    try {
      await props.onSave({
        baseUrl: config.baseUrl.trim(),
        model: config.model.trim(),
        apiKeyEnv: config.apiKeyEnv.trim(),
      })
    } finally {
      setBusy(false)
    }
  }
  return (
    <form className="cm-openai" onSubmit={submit}>
      {field('baseUrl', 'Base URL', 'https://api.example.com/v1')}
      {field('model', 'Model name', 'gpt-4o-mini')}
      {field(
        'apiKeyEnv',
        'API key environment variable',
        'CMDAI_OPENAI_API_KEY',
        'The name of a variable set where cmdai runs; the key itself is never stored.',
      )}
      <button type="submit" disabled={busy}>
        {props.active ? 'Save endpoint' : 'Use this endpoint'}
      </button>
    </form>
  )
}
