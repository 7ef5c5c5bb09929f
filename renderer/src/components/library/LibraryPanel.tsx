import { useEffect, useMemo, useRef, useState } from 'react'
import type { LibraryInfo, PatternEdit, PatternHit, ShellDialect } from '../../../../contract'
import type { Pattern } from '../../../../contract/sync'
import { errorMessage, type Api } from '../../api/client'
import { Overlay } from '../Overlay'
import { VerdictBadge } from '../palette/VerdictBadge'
import { ApprovalsView } from './ApprovalsView'
import { ConflictMarker } from './ConflictMarker'
import { ParameterForm } from './ParameterForm'
import { PatternEditor } from './PatternEditor'
import { PresenceDots } from './PresenceDots'
import { TelemetryView } from './TelemetryView'
import { SsoJoin } from '../identity/SsoJoin'
import { TeamAccess } from '../identity/TeamAccess'
import { useApprovals, useLibraries, useLibraryReplica } from './use-library'
import './library.css'

export interface LibraryTarget {
  ptyId: string | null
  shell: ShellDialect
}

/** What the panel opens on. */
export interface LibraryStart {
  library?: string
  patternId?: string
  mode?: 'run' | 'edit' | 'new' | 'approvals'
  draft?: PatternEdit
}

interface Props {
  api: Api
  target: LibraryTarget
  start?: LibraryStart
  onClose(): void
}

type View =
  | { kind: 'list' }
  | { kind: 'run'; id: string }
  | { kind: 'edit'; id: string }
  | { kind: 'new'; draft?: PatternEdit }
  | { kind: 'join' }
  | { kind: 'approvals' }
  | { kind: 'telemetry' }
  | { kind: 'access' }
  | { kind: 'transfer' }

/**
 * Command libraries: search (fuzzy, by tag) across the personal, starter and team libraries;
 * create, edit, duplicate and delete patterns; see teammates' presence and concurrent-edit
 * markers live; fill in and run a pattern; ask for and decide approvals. Keyboard first:
 * ↑/↓ choose, Enter fill in and run, E edit, D duplicate, Delete remove, N new, Esc back/close.
 */
export function LibraryPanel({ api, target, start, onClose }: Props) {
  const { libraries, error: listError } = useLibraries(api)
  const [libraryId, setLibraryId] = useState(start?.library ?? 'personal')
  const [query, setQuery] = useState('')
  const [tag, setTag] = useState<string | null>(null)
  const [hits, setHits] = useState<PatternHit[]>([])
  const [selected, setSelected] = useState(0)
  const [view, setView] = useState<View>(() =>
    start?.mode === 'run' && start.patternId
      ? { kind: 'run', id: start.patternId }
      : start?.mode === 'edit' && start.patternId
        ? { kind: 'edit', id: start.patternId }
        : start?.mode === 'new'
          ? { kind: 'new', ...(start.draft ? { draft: start.draft } : {}) }
          : start?.mode === 'approvals'
            ? { kind: 'approvals' }
            : { kind: 'list' },
  )
  const [notice, setNotice] = useState<string | null>(null)
  const replica = useLibraryReplica(api, libraryId)
  const info: LibraryInfo | undefined = libraries.find((l) => l.id === libraryId)
  const teams = libraries.some((l) => l.kind === 'team')
  const { approvals, errors: approvalErrors } = useApprovals(api, teams)
  const me = useMemo(
    () =>
      new Set(
        libraries.filter((l) => l.team && l.sync.user).map((l) => `${l.team}/${l.sync.user}`),
      ),
    [libraries],
  )
  const inputRef = useRef<HTMLInputElement>(null)

  // Search: the replica's patterns, ranked by main (fuzzy, with each template's risk).
  const patterns = replica.snapshot?.patterns
  useEffect(() => {
    let live = true
    const timer = setTimeout(() => {
      api
        .call('library:search', {
          query,
          library: libraryId,
          limit: 500,
          ...(tag ? { tags: [tag] } : {}),
        })
        .then((r) => live && setHits(r.hits))
        .catch((err: unknown) => live && setNotice(errorMessage(err)))
    }, 60)
    return () => {
      live = false
      clearTimeout(timer)
    }
  }, [api, query, libraryId, tag, patterns])

  const byId = useMemo(() => new Map((patterns ?? []).map((p) => [p.id, p])), [patterns])
  const current = hits[Math.min(selected, hits.length - 1)]
  const currentPattern: Pattern | undefined = current
    ? (byId.get(current.pattern.id) ?? current.pattern)
    : undefined
  const tags = useMemo(
    () => [...new Set((patterns ?? []).flatMap((p) => p.tags))].sort().slice(0, 30),
    [patterns],
  )

  // What this user looks at, for teammates.
  const focusId =
    view.kind === 'run' || view.kind === 'edit' ? view.id : (currentPattern?.id ?? null)
  const editing = view.kind === 'edit'
  useEffect(() => {
    if (info?.kind !== 'team') return
    void api
      .call('library:presence', { library: libraryId, patternId: focusId, editing })
      .catch(() => undefined)
  }, [api, info?.kind, libraryId, focusId, editing])

  const remove = async (p: Pattern) => {
    if (!window.confirm(`Delete "${p.title}" from ${libraryId}?`)) return
    try {
      await api.call('library:delete', { library: libraryId, id: p.id })
    } catch (err) {
      setNotice(errorMessage(err))
    }
  }
  const duplicate = (p: Pattern) =>
    setView({
      kind: 'new',
      draft: {
        title: `${p.title} (copy)`,
        description: p.description,
        command: p.command,
        parameters: p.parameters,
        tags: p.tags,
      },
    })

  const onKeyDown = (e: React.KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.preventDefault()
      if (view.kind !== 'list') setView({ kind: 'list' })
      else onClose()
      return
    }
    if (view.kind !== 'list') return
    const inSearch = e.target === inputRef.current
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault()
      const step = e.key === 'ArrowDown' ? 1 : -1
      setSelected((s) =>
        hits.length ? (Math.min(s, hits.length - 1) + step + hits.length) % hits.length : 0,
      )
      return
    }
    if (e.key === 'Enter' && currentPattern && (inSearch || e.target === e.currentTarget)) {
      e.preventDefault()
      setView({ kind: 'run', id: currentPattern.id })
      return
    }
    if (inSearch || e.target instanceof HTMLInputElement || e.ctrlKey || e.metaKey || e.altKey)
      return
    if (e.key === 'e' && currentPattern && !info?.readOnly)
      setView({ kind: 'edit', id: currentPattern.id })
    else if (e.key === 'd' && currentPattern) duplicate(currentPattern)
    else if (e.key === 'n' && !info?.readOnly) setView({ kind: 'new' })
    else if (e.key === 'Delete' && currentPattern && !info?.readOnly) void remove(currentPattern)
    else if (e.key === '/') {
      e.preventDefault()
      inputRef.current?.focus()
    }
  }

  const patternFor = (id: string) => byId.get(id)
  const peersOn = (id: string) => replica.presence.filter((p) => p.patternId === id)
  const pending = approvals.filter(
    (a) => a.status === 'pending' && !me.has(`${a.team}/${a.requester}`),
  ).length

  return (
    <Overlay
      labelledBy="library-title"
      className="library-panel"
      testId="library-panel"
      onClose={onClose}
      onKeyDown={onKeyDown}
    >
      <header className="library-head">
        <h2 id="library-title">Libraries</h2>
        <nav className="library-tabs" aria-label="Libraries">
          {libraries.map((l) => (
            <button
              key={l.id}
              type="button"
              aria-pressed={l.id === libraryId}
              className={`library-tab sync-${l.sync.state}`}
              title={`${l.sync.state}${l.sync.reason ? `: ${l.sync.reason}` : ''}`}
              onClick={() => {
                setLibraryId(l.id)
                setSelected(0)
                setView({ kind: 'list' })
              }}
            >
              {l.title} <span className="muted">{l.patternCount}</span>
              {l.kind === 'team' && (
                <span className={`sync-dot sync-${l.sync.state}`} aria-label={l.sync.state} />
              )}
            </button>
          ))}
          <button type="button" onClick={() => setView({ kind: 'join' })}>
            + Join a team library
          </button>
          {teams && (
            <button
              type="button"
              data-testid="approvals-tab"
              onClick={() => setView({ kind: 'approvals' })}
            >
              Approvals{pending ? ` (${pending})` : ''}
            </button>
          )}
          {teams && (
            <button
              type="button"
              data-testid="telemetry-tab"
              onClick={() => setView({ kind: 'telemetry' })}
            >
              What is sent
            </button>
          )}
          {teams && (
            <button
              type="button"
              data-testid="access-tab"
              onClick={() => setView({ kind: 'access' })}
            >
              Your access
            </button>
          )}
        </nav>
      </header>
      {info && <LibraryBanner api={api} info={info} />}
      {[listError, replica.error, notice].filter(Boolean).map((m) => (
        <p key={m} className="palette-notice" role="alert">
          {m}
        </p>
      ))}
      <div className="library-body">
        {view.kind === 'list' && (
          <>
            <div className="palette-input">
              <input
                ref={inputRef}
                autoFocus
                aria-label="Search patterns"
                placeholder="Search patterns (fuzzy) — ↑↓ choose, Enter fill in and run"
                value={query}
                onChange={(e) => {
                  setQuery(e.target.value)
                  setSelected(0)
                }}
                spellCheck={false}
              />
            </div>
            {tags.length > 0 && (
              <div className="library-tags" role="group" aria-label="Filter by tag">
                {tags.map((t) => (
                  <button
                    key={t}
                    type="button"
                    aria-pressed={tag === t}
                    onClick={() => setTag((x) => (x === t ? null : t))}
                  >
                    {t}
                  </button>
                ))}
              </div>
            )}
            <div className="library-split">
              <ul
                className="pattern-list"
                role="listbox"
                aria-label="Patterns"
                data-testid="pattern-list"
              >
                {hits.map((h, i) => (
                  <li
                    key={h.pattern.id}
                    role="option"
                    aria-selected={i === Math.min(selected, hits.length - 1)}
                    onMouseDown={(e) => e.preventDefault()}
                    onClick={() => setSelected(i)}
                    onDoubleClick={() => setView({ kind: 'run', id: h.pattern.id })}
                  >
                    <span className="pattern-title">{h.pattern.title}</span>
                    <VerdictBadge risk={h.risk} />
                    <PresenceDots peers={peersOn(h.pattern.id)} label="looking at it" />
                    {replica.conflicts.some((c) => c.patternId === h.pattern.id) && (
                      <span
                        className="conflict-flag"
                        title="A teammate changed it at the same time"
                      >
                        ⚠ changed by both
                      </span>
                    )}
                  </li>
                ))}
                {hits.length === 0 && (
                  <li className="muted">No patterns{query ? ' match' : ' yet'}.</li>
                )}
              </ul>
              {currentPattern && (
                <PatternDetail
                  pattern={currentPattern}
                  risk={current?.risk ?? 'safe'}
                  readOnly={info?.readOnly ?? true}
                  peers={peersOn(currentPattern.id)}
                  conflicts={replica.conflicts.filter((c) => c.patternId === currentPattern.id)}
                  api={api}
                  onRun={() => setView({ kind: 'run', id: currentPattern.id })}
                  onEdit={() => setView({ kind: 'edit', id: currentPattern.id })}
                  onDuplicate={() => duplicate(currentPattern)}
                  onDelete={() => void remove(currentPattern)}
                />
              )}
            </div>
            <footer className="palette-help muted">
              ↑↓ choose · Enter fill in and run · E edit · D duplicate · N new · Del delete · /
              search · Esc close
              {!info?.readOnly && (
                <>
                  {' · '}
                  <button
                    type="button"
                    className="linklike"
                    onClick={() => setView({ kind: 'new' })}
                  >
                    New pattern
                  </button>
                </>
              )}
              {' · '}
              <button
                type="button"
                className="linklike"
                onClick={() => setView({ kind: 'transfer' })}
              >
                Import / export
              </button>
            </footer>
          </>
        )}
        {view.kind === 'run' &&
          (patternFor(view.id) ? (
            <ParameterForm
              key={view.id}
              api={api}
              library={libraryId}
              pattern={patternFor(view.id)!}
              shell={target.shell}
              ptyId={target.ptyId}
              approvals={approvals}
              onRan={() => onClose()}
              onCancel={() => setView({ kind: 'list' })}
            />
          ) : (
            <p className="muted">Loading the pattern…</p>
          ))}
        {view.kind === 'edit' && (
          <PatternEditor
            api={api}
            library={libraryId}
            pattern={patternFor(view.id) ?? null}
            conflicts={replica.conflicts}
            peers={replica.presence}
            onSaved={() => setView({ kind: 'list' })}
            onCancel={() => setView({ kind: 'list' })}
          />
        )}
        {view.kind === 'new' && (
          <PatternEditor
            api={api}
            library={info?.readOnly ? 'personal' : libraryId}
            pattern={null}
            draft={view.draft}
            conflicts={[]}
            peers={[]}
            onSaved={(p) => {
              if (info?.readOnly) setLibraryId('personal')
              setQuery('')
              setView({ kind: 'list' })
              void p
            }}
            onCancel={() => setView({ kind: 'list' })}
          />
        )}
        {view.kind === 'join' && (
          <JoinForm
            api={api}
            onJoined={(l) => {
              setLibraryId(l.id)
              setView({ kind: 'list' })
            }}
            onCancel={() => setView({ kind: 'list' })}
          />
        )}
        {view.kind === 'approvals' && (
          <ApprovalsView api={api} approvals={approvals} errors={approvalErrors} me={me} />
        )}
        {view.kind === 'telemetry' && <TelemetryView api={api} />}
        {view.kind === 'access' && <TeamAccess api={api} />}
        {view.kind === 'transfer' && (
          <Transfer api={api} library={libraryId} readOnly={info?.readOnly ?? true} />
        )}
      </div>
    </Overlay>
  )
}

function LibraryBanner({ api, info }: { api: Api; info: LibraryInfo }) {
  const online = info.sync.state !== 'offline' || !/by choice/.test(info.sync.reason ?? '')
  const toggle = () =>
    void api.call('library:connect', { id: info.id, online: !online }).catch(() => undefined)
  if (info.kind !== 'team' && !info.readOnly) return null
  const s = info.sync
  return (
    <p className={`library-banner sync-${s.state}`} data-testid="library-banner" role="status">
      {info.kind === 'team' && (
        <>
          {info.id} on {info.server}: <strong>{s.state}</strong>
          {s.user ? ` as ${s.user}` : ''}
          {s.role ? ` (${s.role})` : ''}
          {s.reason ? ` — ${s.reason}` : ''}
          {s.unsynced ? ' — your offline edits are kept and sent on reconnect' : ''}
          {s.refusedWrites > 0 ? ` — ${s.refusedWrites} write(s) refused by the server` : ''}.{' '}
        </>
      )}
      {info.readOnly && <span data-testid="read-only">Read-only: {info.readOnlyReason}</span>}
      {info.kind === 'team' && (
        <button type="button" className="linklike" data-testid="toggle-online" onClick={toggle}>
          {online ? 'Go offline' : 'Reconnect'}
        </button>
      )}
    </p>
  )
}

interface DetailProps {
  api: Api
  pattern: Pattern
  risk: PatternHit['risk']
  readOnly: boolean
  peers: ReturnType<typeof useLibraryReplica>['presence']
  conflicts: ReturnType<typeof useLibraryReplica>['conflicts']
  onRun(): void
  onEdit(): void
  onDuplicate(): void
  onDelete(): void
}

function PatternDetail({
  api,
  pattern,
  risk,
  readOnly,
  peers,
  conflicts,
  onRun,
  onEdit,
  onDuplicate,
  onDelete,
}: DetailProps) {
  return (
    <article className={`pattern-detail card-risk-${risk}`} data-testid="pattern-detail">
      <h3>
        {pattern.title} <PresenceDots peers={peers} label="looking at it" />
      </h3>
      {peers.some((p) => p.editing) && (
        <p className="muted" data-testid="presence-editing">
          {peers
            .filter((p) => p.editing)
            .map((p) => p.user)
            .join(', ')}{' '}
          editing now
        </p>
      )}
      <pre className="card-command">{pattern.command}</pre>
      <p>
        Template: <VerdictBadge risk={risk} />{' '}
        <span className="muted">(parameters as unknown words; checked again once filled in)</span>
      </p>
      {pattern.description && <p>{pattern.description}</p>}
      {pattern.parameters.length > 0 && (
        <ul className="param-summary">
          {pattern.parameters.map((p) => (
            <li key={p.name}>
              <code>{p.name}</code> {p.description}
              {p.default !== undefined ? ` (default ${p.default})` : ''}
              {p.allowed ? ` — one of ${p.allowed.join(', ')}` : ''}
            </li>
          ))}
        </ul>
      )}
      {pattern.tags.length > 0 && <p className="muted">Tags: {pattern.tags.join(', ')}</p>}
      <p className="muted">
        By {pattern.author}
        {pattern.updatedBy && pattern.updatedBy !== pattern.author
          ? `, last changed by ${pattern.updatedBy}`
          : ''}
      </p>
      {conflicts.map((c) => (
        <ConflictMarker key={c.field} api={api} conflict={c} />
      ))}
      <div className="card-actions">
        <button type="button" className="primary" onClick={onRun}>
          Fill in and run
        </button>
        {!readOnly && (
          <button type="button" onClick={onEdit}>
            Edit
          </button>
        )}
        <button type="button" onClick={onDuplicate}>
          Duplicate
        </button>
        {!readOnly && (
          <button type="button" onClick={onDelete}>
            Delete
          </button>
        )}
      </div>
    </article>
  )
}

function JoinForm({
  api,
  onJoined,
  onCancel,
}: {
  api: Api
  onJoined(l: LibraryInfo): void
  onCancel(): void
}) {
  const [server, setServer] = useState('')
  const [token, setToken] = useState('')
  const [library, setLibrary] = useState('')
  const [error, setError] = useState<string | null>(null)
  const join = async () => {
    setError(null)
    try {
      onJoined(
        await api.call('library:join', {
          server: server.trim(),
          token: token.trim(),
          library: library.trim(),
        }),
      )
    } catch (err) {
      setError(errorMessage(err))
    }
  }
  return (
    <form
      className="join-form"
      data-testid="join-form"
      onSubmit={(e) => {
        e.preventDefault()
        void join()
      }}
    >
      <h3>Join a team library</h3>
      <label>
        Team server
        <input
          type="text"
          autoFocus
          placeholder="https://cmdai.example.com"
          value={server}
          onChange={(e) => setServer(e.target.value)}
        />
      </label>
      <label>
        Your token{' '}
        <span className="muted">
          (from your admin; stored encrypted or in a private file, never in settings)
        </span>
        <input
          type="password"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          autoComplete="off"
        />
      </label>
      <label>
        Library
        <input
          type="text"
          placeholder="deploy"
          value={library}
          onChange={(e) => setLibrary(e.target.value)}
        />
      </label>
      {error && (
        <p className="palette-notice" role="alert">
          {error}
        </p>
      )}
      <SsoJoin api={api} server={server} library={library} onJoined={onJoined} />
      <div className="card-actions">
        <button type="submit" className="primary" disabled={!server || !token || !library}>
          Join
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  )
}

function Transfer({ api, library, readOnly }: { api: Api; library: string; readOnly: boolean }) {
  const [text, setText] = useState('')
  const [message, setMessage] = useState<string | null>(null)
  const [format, setFormat] = useState<'yaml' | 'json' | 'navi' | 'pet'>('yaml')
  const exportNow = async (f: 'yaml' | 'json') => {
    try {
      setText((await api.call('library:export', { library, format: f })).text)
      setMessage(`Exported ${library} as ${f.toUpperCase()}; copy it from the box.`)
    } catch (err) {
      setMessage(errorMessage(err))
    }
  }
  const importNow = async () => {
    try {
      const r = await api.call('library:import', {
        library: readOnly ? 'personal' : library,
        format,
        text,
      })
      setMessage(
        `Imported ${r.added}, ${r.skipped} already there.${r.errors.length ? ` Skipped: ${r.errors.join('; ')}` : ''}`,
      )
    } catch (err) {
      setMessage(errorMessage(err))
    }
  }
  const readFile = async (file: File | undefined) => {
    if (!file) return
    if (file.size > 5_000_000) return setMessage('That file is over 5 MB.')
    setText(await file.text())
    if (file.name.endsWith('.cheat')) setFormat('navi')
    else if (file.name.endsWith('.toml')) setFormat('pet')
    else if (file.name.endsWith('.json')) setFormat('json')
  }
  return (
    <div className="transfer">
      <h3>Import / export</h3>
      <div className="card-actions">
        <button type="button" onClick={() => void exportNow('yaml')}>
          Export YAML
        </button>
        <button type="button" onClick={() => void exportNow('json')}>
          Export JSON
        </button>
        <input
          type="file"
          aria-label="Choose a file to import"
          accept=".yaml,.yml,.json,.cheat,.toml"
          onChange={(e) => void readFile(e.target.files?.[0])}
        />
        <select
          aria-label="Import format"
          value={format}
          onChange={(e) => setFormat(e.target.value as typeof format)}
        >
          <option value="yaml">cmdai YAML</option>
          <option value="json">cmdai JSON</option>
          <option value="navi">navi .cheat</option>
          <option value="pet">pet TOML</option>
        </select>
        <button type="button" className="primary" disabled={!text} onClick={() => void importNow()}>
          Import into {readOnly ? 'personal' : library}
        </button>
      </div>
      <textarea
        aria-label="Library text"
        rows={14}
        spellCheck={false}
        value={text}
        onChange={(e) => setText(e.target.value)}
      />
      {message && <p role="status">{message}</p>}
    </div>
  )
}
