import { useId, useState, type FormEvent } from 'react'
import { DownloadBar } from './DownloadBar'
import { barActions, type Downloads } from './use-downloads'

interface Props {
  downloads: Downloads
  /** URIs the catalog already shows (their progress is shown there). */
  catalogUris: string[]
}

/** Downloads any GGUF model from an `hf:` URI or an https URL, as `cmdai models pull` does. */
export function PullForm({ downloads, catalogUris }: Props) {
  const [uri, setUri] = useState('')
  const [error, setError] = useState<string | null>(null)
  const inputId = useId()
  const hintId = useId()
  const others = Object.values(downloads.entries).filter((e) => !catalogUris.includes(e.uri))

  const submit = (event: FormEvent) => {
    event.preventDefault()
    const trimmed = uri.trim()
    if (!/^(hf:|https?:\/\/)\S+$/.test(trimmed)) {
      setError('Enter an hf: URI (hf:user/repo/file.gguf) or an http(s) URL of a .gguf file')
      return
    }
    setError(null)
    downloads.start(trimmed)
    setUri('')
  }

  return (
    <form className="cm-import" onSubmit={submit}>
      <label htmlFor={inputId}>Model URI or URL</label>
      <div className="cm-row">
        <input
          id={inputId}
          type="text"
          value={uri}
          spellCheck={false}
          placeholder="hf:Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
          aria-describedby={hintId}
          aria-invalid={error ? true : undefined}
          onChange={(e) => setUri(e.target.value)}
        />
        <button type="submit">Download</button>
      </div>
      <p id={hintId} className="cm-hint">
        Downloaded into the models folder with progress; an interrupted download resumes.
      </p>
      {error && (
        <p className="cm-error" role="alert">
          {error}
        </p>
      )}
      {others.map((entry) => (
        <DownloadBar
          key={entry.uri}
          entry={entry}
          name={entry.uri.split('/').pop() ?? entry.uri}
          {...barActions(downloads, entry.uri)}
        />
      ))}
    </form>
  )
}
