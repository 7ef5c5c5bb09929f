import { useId, useState, type FormEvent } from 'react'
import type { ModelInfo } from '../../../../contract/llm'
import { errorMessage, type Api } from '../../api/client'

interface Props {
  api: Api
  /** `browser` when the UI is served by `cmdai serve`: the path is on the server's machine. */
  host: 'electron' | 'browser' | null
  onImported(model: ModelInfo): void
}

/** Imports a GGUF file that is already on the machine running cmdai. */
export function ImportForm({ api, host, onImported }: Props) {
  const [path, setPath] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [done, setDone] = useState<string | null>(null)
  const inputId = useId()
  const hintId = useId()

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    const trimmed = path.trim()
    if (!trimmed) {
      setError('Enter the absolute path of a .gguf file')
      return
    }
    setBusy(true)
    setError(null)
    setDone(null)
    try {
      const model = await api.call('models:import', { path: trimmed })
      setDone(`Imported ${model.name}`)
      setPath('')
      onImported(model)
    } catch (err) {
      setError(errorMessage(err))
    } finally {
      setBusy(false)
    }
  }

  return (
    <form className="cm-import" onSubmit={submit} aria-busy={busy}>
      <label htmlFor={inputId}>Path of a GGUF file</label>
      <div className="cm-row">
        <input
          id={inputId}
          type="text"
          value={path}
          spellCheck={false}
          placeholder="/home/me/models/my-model.gguf"
          aria-describedby={hintId}
          aria-invalid={error ? true : undefined}
          onChange={(e) => setPath(e.target.value)}
        />
        <button type="submit" disabled={busy}>
          {busy ? 'Importing…' : 'Import'}
        </button>
      </div>
      <p id={hintId} className="cm-hint">
        {host === 'browser'
          ? 'An absolute path on the machine running cmdai serve (the server), not on the computer showing this page. The file is checked, then linked or copied into the models folder.'
          : 'An absolute path on this computer. The file is checked, then linked or copied into the models folder.'}
      </p>
      {error && (
        <p className="cm-error" role="alert">
          {error}
        </p>
      )}
      {done && (
        <p className="cm-ok" role="status">
          {done}
        </p>
      )}
    </form>
  )
}
