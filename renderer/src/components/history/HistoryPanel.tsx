import { useEffect, useRef, useState } from 'react'
import type { HistorySearchHit, HistorySearchResult, SearchMode } from '../../../../contract'
import { showControls } from '../../../../contract/display'
import { errorMessage, type Api } from '../../api/client'
import { Overlay } from '../Overlay'
import { AgentsView, HistoryViewTabs, type HistoryView } from './AgentsView'
import { HistoryProblemNotice, ImportBox, useHistoryState } from './HistoryHealth'

interface Props {
  api: Api
  cwd?: string
  /** Put the command at the prompt of the active terminal, without running it. */
  onInsert(command: string): void
  onExplain(command: string): void
  /** Turn the chosen command (with similar ones as examples) into a library pattern. */
  onSaveAsPattern?(commands: string[]): void
  onClose(): void
}

const MODES: Array<{ mode: SearchMode; label: string }> = [
  { mode: 'fuzzy', label: 'Fuzzy' },
  { mode: 'text', label: 'Words' },
  { mode: 'substring', label: 'Exact text' },
  { mode: 'semantic', label: 'Meaning' },
]

/** Ctrl+R: search everything that ran in cmdai's terminals (and imported history). */
export function HistoryPanel({ api, cwd, onInsert, onExplain, onSaveAsPattern, onClose }: Props) {
  const [query, setQuery] = useState('')
  const [mode, setMode] = useState<SearchMode>('fuzzy')
  const [hereOnly, setHereOnly] = useState(false)
  const [failedOnly, setFailedOnly] = useState(false)
  const [result, setResult] = useState<HistorySearchResult | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [selected, setSelected] = useState(0)
  /** The entry whose deletion waits for a second Shift+Delete (or the Delete button). */
  const [confirming, setConfirming] = useState<HistorySearchHit | null>(null)
  const [deleted, setDeleted] = useState<string | null>(null)
  const [reload, setReload] = useState(0)
  const [view, setView] = useState<HistoryView>('commands')
  const [showImport, setShowImport] = useState(false)
  // Why the database cannot open (file, meaning, repair), and a search again once it does.
  const status = useHistoryState(api)
  const failed = status?.state === 'failed'
  const dbState = status?.state
  const seq = useRef(0)

  useEffect(() => {
    const id = ++seq.current
    const timer = setTimeout(() => {
      api
        .call('history:search', {
          query,
          mode,
          limit: 50,
          filter: {
            ...(hereOnly && cwd ? { cwd } : {}),
            ...(failedOnly ? { exit: 'fail' as const } : {}),
          },
        })
        .then((r) => {
          if (id !== seq.current) return
          setResult(r)
          setError(null)
          setSelected((s) => (reload > 0 ? Math.min(s, Math.max(0, r.hits.length - 1)) : 0))
        })
        .catch((err: unknown) => {
          if (id !== seq.current) return
          // Results of an earlier search would read as answers to this one (e.g. Meaning
          // without an embedding model): the message stands alone.
          setResult(null)
          setError(errorMessage(err))
        })
    }, 60)
    return () => clearTimeout(timer)
    // dbState: search again once the database opens (e.g. after a repair and Try again).
  }, [api, query, mode, hereOnly, failedOnly, cwd, reload, dbState])

  const hits = result?.hits ?? []
  const current: HistorySearchHit | undefined = hits[Math.min(selected, hits.length - 1)]

  /** Deletes every run of the entry within the filters shown (what its "N×" counts). */
  const remove = async (hit: HistorySearchHit) => {
    setConfirming(null)
    try {
      const filter = {
        ...(hereOnly && cwd ? { cwd } : {}),
        ...(failedOnly ? { exit: 'fail' as const } : {}),
        command: hit.command,
      }
      const done = await api.call('history:delete', { filter })
      const runs = done.deletedCommands
      setDeleted(`Deleted ${runs} run${runs === 1 ? '' : 's'} of “${showControls(hit.command)}”.`)
      setReload((n) => n + 1)
    } catch (err) {
      setError(errorMessage(err))
    }
  }

  const onKeyDown = (event: React.KeyboardEvent) => {
    const inText = event.target instanceof HTMLInputElement && event.target.type === 'text'
    if (event.key === 'Escape' && confirming) {
      event.preventDefault()
      setConfirming(null)
    } else if (event.key === 'Escape') {
      event.preventDefault()
      onClose()
    } else if (event.key === 'Delete' && current && (event.shiftKey || !inText)) {
      // Shift+Delete anywhere; plain Delete where it does not edit text. Twice: ask, then do.
      event.preventDefault()
      if (confirming?.command === current.command) void remove(current)
      else setConfirming(current)
    } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault()
      const step = event.key === 'ArrowDown' ? 1 : -1
      setSelected((s) => Math.max(0, Math.min(hits.length - 1, s + step)))
      setConfirming(null)
    } else if (event.key === 'Enter' && current && confirming?.command === current.command) {
      event.preventDefault()
      void remove(current)
    } else if (event.key === 'Enter' && current) {
      event.preventDefault()
      onInsert(current.command)
    }
  }

  if (view === 'agents') {
    return <AgentsView api={api} onInsert={onInsert} onClose={onClose} onView={setView} />
  }
  return (
    <Overlay
      labelledBy="history-title"
      className="history-panel"
      testId="history-panel"
      onClose={onClose}
      onKeyDown={onKeyDown}
    >
      <h2 id="history-title" className="sr-only">
        Search history
      </h2>
      <HistoryViewTabs view="commands" onChange={setView} />
      <div className="palette-input">
        <span aria-hidden="true" className="palette-prompt">
          ⌕
        </span>
        <input
          autoFocus
          aria-label="Search your command history"
          placeholder="Search history"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          spellCheck={false}
        />
      </div>
      <div className="history-filters" role="group" aria-label="Search options">
        {MODES.map(({ mode: m, label }) => (
          <button key={m} aria-pressed={mode === m} onClick={() => setMode(m)}>
            {label}
          </button>
        ))}
        <label>
          <input
            type="checkbox"
            checked={hereOnly}
            onChange={(e) => setHereOnly(e.target.checked)}
          />{' '}
          In this directory
        </label>
        <label>
          <input
            type="checkbox"
            checked={failedOnly}
            onChange={(e) => setFailedOnly(e.target.checked)}
          />{' '}
          Failed only
        </label>
        <span className="muted">
          {result ? `${hits.length} in ${result.tookMs.toFixed(1)} ms` : ''}
        </span>
      </div>
      {failed && status && <HistoryProblemNotice api={api} status={status} />}
      {error && !failed && (
        <p className="palette-notice" role="alert">
          {error}
        </p>
      )}
      {showImport && !failed && <ImportBox api={api} onImported={() => setReload((n) => n + 1)} />}
      <ul className="history-results" role="listbox" aria-label="Matching commands">
        {hits.map((hit, index) => (
          <li
            key={hit.command}
            role="option"
            aria-selected={index === selected}
            onMouseDown={(e) => e.preventDefault()}
            onClick={() => {
              setSelected(index)
              setConfirming(null)
            }}
            onDoubleClick={() => onInsert(hit.command)}
          >
            <code className="history-command">{showControls(hit.command)}</code>
            <span className={`history-exit ${hit.last.exitCode === 0 ? 'ok' : 'fail'}`}>
              {hit.last.exitCode === null
                ? ''
                : hit.last.exitCode === 0
                  ? '✓'
                  : `✗ ${hit.last.exitCode}`}
            </span>
            <span className="muted history-meta">
              {hit.uses}× · {hit.last.cwd ?? ''} · {new Date(hit.last.startedAt).toLocaleString()}
              {hit.last.durationMs !== null && ` · took ${formatDuration(hit.last.durationMs)}`}
            </span>
          </li>
        ))}
        {result && hits.length === 0 && <li className="muted">Nothing matches.</li>}
      </ul>
      {confirming && (
        <div className="history-confirm" role="alertdialog" aria-label="Confirm deleting an entry">
          Delete {confirming.uses === 1 ? 'the run' : `all ${confirming.uses} runs`} of{' '}
          <code>{showControls(confirming.command)}</code> from your history? It cannot be undone.{' '}
          <button onClick={() => void remove(confirming)}>Delete</button>{' '}
          <button onClick={() => setConfirming(null)}>Keep</button>
        </div>
      )}
      {deleted && !confirming && (
        <p className="muted" role="status">
          {deleted}
        </p>
      )}
      <footer className="palette-help muted">
        Enter insert at the prompt · ↑↓ choose ·{' '}
        <button disabled={!current} onClick={() => current && onExplain(current.command)}>
          Explain
        </button>{' '}
        ·{' '}
        <button
          disabled={!current}
          aria-keyshortcuts="Shift+Delete"
          onClick={() => current && setConfirming(current)}
        >
          Delete
        </button>{' '}
        (Shift+Del) ·{' '}
        {onSaveAsPattern && (
          <>
            <button
              disabled={!current}
              onClick={() => current && onSaveAsPattern(similarCommands(current.command, hits))}
            >
              Save as pattern
            </button>{' '}
            ·{' '}
          </>
        )}
        <button aria-expanded={showImport} onClick={() => setShowImport((v) => !v)}>
          Import…
        </button>{' '}
        · Esc close
      </footer>
    </Overlay>
  )
}

/** The chosen command first, then up to 9 others with the same program (examples of what varies). */
function similarCommands(command: string, hits: HistorySearchHit[]): string[] {
  const program = command.trim().split(/\s+/)[0]
  const others = hits
    .map((h) => h.command)
    .filter((c) => c !== command && c.trim().split(/\s+/)[0] === program)
  return [command, ...others.slice(0, 9)]
}

/** How long a run took: `12 ms`, `1.4 s`, `2 min 5 s`. */
function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  const seconds = Math.round(ms / 1000)
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`
}
