import { useEffect, useRef, useState } from 'react'
import type { AgentDecision, AgentEvent, AgentEventsResult } from '../../../../contract'
import { showControls } from '../../../../contract/display'
import { errorMessage, type Api } from '../../api/client'
import { Overlay } from '../Overlay'
import { VerdictBadge } from '../palette/VerdictBadge'
import '../agents/agents.css'

export type HistoryView = 'commands' | 'agents'

/** The history panel's two views: what ran in the terminals, and what coding agents did. */
export function HistoryViewTabs({
  view,
  onChange,
}: {
  view: HistoryView
  onChange(view: HistoryView): void
}) {
  return (
    <div className="history-tabs" role="tablist" aria-label="History">
      {(['commands', 'agents'] as const).map((v) => (
        <button
          key={v}
          role="tab"
          aria-selected={view === v}
          tabIndex={view === v ? 0 : -1}
          onClick={() => onChange(v)}
          onKeyDown={(e) => {
            if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
              e.preventDefault()
              e.stopPropagation()
              onChange(v === 'commands' ? 'agents' : 'commands')
            }
          }}
        >
          {v === 'commands' ? 'Commands' : 'Agents'}
        </button>
      ))}
    </div>
  )
}

/** How each decision reads in the list, in words (never colour alone). */
export const DECISION_LABELS: Record<AgentDecision, string> = {
  checked: 'checked',
  allowed: 'allowed',
  asked: 'asked you',
  approved: 'approved by you',
  denied: 'denied by you',
  blocked: 'blocked',
  refused: 'refused (no app)',
  expired: 'not approved in time',
}

interface Props {
  api: Api
  onInsert(command: string): void
  onClose(): void
  onView(view: HistoryView): void
}

/**
 * The Agents view of the history panel: every command a coding agent asked about or ran (through
 * `cmdai mcp` or an agent hook), newest first, with the agent, the verdict and what became of it.
 * Filters by agent and decision; updates live as agents work.
 */
export function AgentsView({ api, onInsert, onClose, onView }: Props) {
  const [query, setQuery] = useState('')
  const [client, setClient] = useState('')
  const [decision, setDecision] = useState<AgentDecision | ''>('')
  const [result, setResult] = useState<AgentEventsResult | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [selected, setSelected] = useState(0)
  const [fresh, setFresh] = useState(0)
  const seq = useRef(0)

  useEffect(() => api.on('history:agent', () => setFresh((n) => n + 1)), [api])

  useEffect(() => {
    const id = ++seq.current
    const timer = setTimeout(() => {
      api
        .call('history:agentEvents', {
          query,
          limit: 100,
          ...(client ? { client } : {}),
          ...(decision ? { decision } : {}),
        })
        .then((r) => {
          if (id !== seq.current) return
          setResult(r)
          setError(null)
        })
        .catch((err: unknown) => {
          if (id !== seq.current) return
          setResult(null)
          setError(errorMessage(err))
        })
    }, 60)
    return () => clearTimeout(timer)
  }, [api, query, client, decision, fresh])

  const events = result?.events ?? []
  const current: AgentEvent | undefined = events[Math.min(selected, events.length - 1)]

  const onKeyDown = (event: React.KeyboardEvent) => {
    if (event.key === 'Escape') {
      event.preventDefault()
      onClose()
    } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      if (event.target instanceof HTMLSelectElement) return
      event.preventDefault()
      const step = event.key === 'ArrowDown' ? 1 : -1
      setSelected((s) => Math.max(0, Math.min(events.length - 1, s + step)))
    } else if (event.key === 'Enter' && current && !(event.target instanceof HTMLButtonElement)) {
      event.preventDefault()
      onInsert(current.command)
    }
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
        Commands of coding agents
      </h2>
      <HistoryViewTabs view="agents" onChange={onView} />
      <div className="palette-input">
        <span aria-hidden="true" className="palette-prompt">
          ⌕
        </span>
        <input
          autoFocus
          aria-label="Search the commands of coding agents"
          placeholder="Search agents' commands"
          value={query}
          onChange={(e) => {
            setQuery(e.target.value)
            setSelected(0)
          }}
          spellCheck={false}
        />
      </div>
      <div className="history-filters" role="group" aria-label="Filters">
        <label>
          Agent{' '}
          <select
            value={client}
            onChange={(e) => {
              setClient(e.target.value)
              setSelected(0)
            }}
          >
            <option value="">all</option>
            {(result?.clients ?? []).map((name) => (
              <option key={name} value={name}>
                {showControls(name)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Outcome{' '}
          <select
            value={decision}
            onChange={(e) => {
              setDecision(e.target.value as AgentDecision | '')
              setSelected(0)
            }}
          >
            <option value="">all</option>
            {(Object.keys(DECISION_LABELS) as AgentDecision[]).map((d) => (
              <option key={d} value={d}>
                {DECISION_LABELS[d]}
              </option>
            ))}
          </select>
        </label>
        <span className="muted">{result ? `${events.length} shown` : ''}</span>
      </div>
      {error && (
        <p className="palette-notice" role="alert">
          {error}
        </p>
      )}
      <ul
        className="history-results agent-events"
        role="listbox"
        aria-label="Commands of coding agents"
      >
        {events.map((e, index) => (
          <li
            key={e.id}
            role="option"
            aria-selected={index === selected}
            data-decision={e.decision}
            onMouseDown={(ev) => ev.preventDefault()}
            onClick={() => setSelected(index)}
            onDoubleClick={() => onInsert(e.command)}
          >
            <VerdictBadge risk={e.risk} />
            <code className="history-command">{showControls(e.command)}</code>
            <span className={`agent-decision decision-${e.decision}`}>
              {DECISION_LABELS[e.decision]}
              {e.exitCode !== undefined && (e.exitCode === 0 ? ' · ✓' : ` · ✗ ${e.exitCode ?? ''}`)}
            </span>
            <span className="muted history-meta">
              {showControls(e.client.name)} · {e.via === 'hook' ? 'hook' : e.tool}
              {e.cwd ? ` · ${showControls(e.cwd)}` : ''} · {new Date(e.startedAt).toLocaleString()}
              {e.note ? ` · ${showControls(e.note)}` : ''}
            </span>
          </li>
        ))}
      </ul>
      {result && events.length === 0 && (
        <p className="muted agent-events-empty">
          {query || client || decision
            ? 'Nothing matches.'
            : 'No agent has used cmdai yet. Connect one with `cmdai mcp` or `cmdai hook install claude-code`.'}
        </p>
      )}
      <footer className="palette-help muted">
        Enter insert at the prompt · ↑↓ choose · Esc close
      </footer>
    </Overlay>
  )
}
