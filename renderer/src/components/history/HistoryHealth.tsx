import { useEffect, useState } from 'react'
import type {
  HistoryStatus,
  ImportFormat,
  ImportProgress,
  ImportSummary,
} from '../../../../contract'
import { IMPORT_FORMATS } from '../../../../contract/history'
import { showControls } from '../../../../contract/display'
import { errorMessage, type Api } from '../../api/client'
import './history-health.css'

/** The database's state: a snapshot, then `history:state` events (opened, failed, reopened). */
export function useHistoryState(api: Api): HistoryStatus | null {
  const [status, setStatus] = useState<HistoryStatus | null>(null)
  useEffect(() => {
    let live = true
    const off = api.on('history:state', (s) => live && setStatus(s))
    api.call('history:status', {}).then(
      (s) => live && setStatus((prev) => prev ?? s),
      () => undefined,
    )
    return () => {
      live = false
      off()
    }
  }, [api])
  return status
}

/** The command inside the first pair of backticks of a repair hint, e.g. `cmdai history doctor`. */
export function repairCommandOf(repair: string): string {
  return /`([^`]+)`/.exec(repair)?.[1] ?? repair
}

/**
 * Why history cannot be opened: which file, what it means, the command that repairs it, and a
 * way to try again once it is repaired (the app releases the database so the command can run).
 */
export function HistoryProblemNotice({ api, status }: { api: Api; status: HistoryStatus }) {
  const [retrying, setRetrying] = useState(false)
  const [error, setError] = useState<string | null>(null)
  if (status.state !== 'failed') return null
  const p = status.problem
  const retry = () => {
    setRetrying(true)
    setError(null)
    api
      .call('history:reopen', {})
      .then((s) => s.state === 'failed' && setError(s.problem?.meaning ?? s.message))
      .catch((err: unknown) => setError(errorMessage(err)))
      .finally(() => setRetrying(false))
  }
  return (
    <div className="history-problem" role="alert" data-testid="history-problem">
      <strong>History cannot be opened.</strong>
      {p ? (
        <dl>
          <dt>File</dt>
          <dd>
            <code>{p.file}</code>
          </dd>
          <dt>Problem</dt>
          <dd>{p.meaning}</dd>
          <dt>Repair</dt>
          <dd>
            Run <code>{repairCommandOf(p.repair)}</code> in a terminal. {p.repair}
          </dd>
        </dl>
      ) : (
        <p>{status.message}</p>
      )}
      <button onClick={retry} disabled={retrying}>
        {retrying ? 'Opening…' : 'Try again'}
      </button>
      {error && <p className="muted">Still failing: {error}</p>}
    </div>
  )
}

/**
 * Import a shell history (or a cmdai export) from a file on this machine, with a progress bar
 * fed by `history:importProgress`, and the skipped lines reported when it is done.
 */
export function ImportBox({ api, onImported }: { api: Api; onImported(): void }) {
  const [format, setFormat] = useState<ImportFormat>('zsh')
  const [path, setPath] = useState('')
  const [progress, setProgress] = useState<ImportProgress | null>(null)
  const [summary, setSummary] = useState<ImportSummary | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [running, setRunning] = useState(false)
  useEffect(() => api.on('history:importProgress', (p) => setProgress(p)), [api])
  const needsPath = format === 'jsonl' || format === 'csv'
  const start = () => {
    setRunning(true)
    setSummary(null)
    setError(null)
    setProgress(null)
    api
      .call('history:import', path.trim() ? { path: path.trim(), format } : { format })
      .then((s) => {
        setSummary(s)
        onImported()
      })
      .catch((err: unknown) => setError(errorMessage(err)))
      .finally(() => setRunning(false))
  }
  const pct =
    progress && progress.totalBytes
      ? Math.round((progress.bytesRead / progress.totalBytes) * 100)
      : 0
  return (
    <form
      className="history-import"
      aria-label="Import history"
      onSubmit={(e) => {
        e.preventDefault()
        if (!running) start()
      }}
    >
      <label>
        Format{' '}
        <select value={format} onChange={(e) => setFormat(e.target.value as ImportFormat)}>
          {IMPORT_FORMATS.map((f) => (
            <option key={f} value={f}>
              {f}
            </option>
          ))}
        </select>
      </label>{' '}
      <label>
        File{' '}
        <input
          type="text"
          value={path}
          spellCheck={false}
          placeholder={needsPath ? 'path of the export' : 'default: the shell’s own history file'}
          onChange={(e) => setPath(e.target.value)}
        />
      </label>{' '}
      <button type="submit" disabled={running || (needsPath && !path.trim())}>
        Import
      </button>
      {running && progress && (
        <div role="status" aria-live="polite">
          <progress max={100} value={pct} aria-label="Import progress" /> {pct}% ·{' '}
          {progress.imported.toLocaleString()} imported · {progress.skipped.toLocaleString()}{' '}
          skipped{progress.phase === 'finishing' ? ' · finishing…' : ''}
        </div>
      )}
      {summary && (
        <div role="status" data-testid="import-summary">
          Imported {summary.imported.toLocaleString()} new {summary.format} entries:{' '}
          {summary.parsed.toLocaleString()} read, {summary.duplicates.toLocaleString()} already
          present, {summary.skipped.toLocaleString()} skipped.
          {summary.skips.length > 0 && (
            <ul className="muted">
              {summary.skips.slice(0, 5).map((s) => (
                <li key={s.line}>
                  line {s.line}: {showControls(s.reason)}
                </li>
              ))}
              {summary.skipped > 5 && <li>… and {summary.skipped - 5} more</li>}
            </ul>
          )}
        </div>
      )}
      {error && (
        <p className="palette-notice" role="alert">
          {error}
        </p>
      )}
    </form>
  )
}
