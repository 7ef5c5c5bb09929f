import { useEffect, useMemo, useRef, useState } from 'react'
import type {
  HistorySearchHit,
  PatternHit,
  SafetyLevel,
  ShellDialect,
  Verdict,
} from '../../../../contract'
import { showControls } from '../../../../contract/display'
import { errorMessage, type Api } from '../../api/client'
import { Overlay } from '../Overlay'
import { SuggestionCard, type CardContent, type RunState } from './SuggestionCard'
import { useSuggestion } from './use-suggestion'

export interface PaletteTarget {
  ptyId: string | null
  cwd?: string
  shell?: string
  gitBranch?: string | null
}

interface Props {
  api: Api
  target: PaletteTarget
  safetyLevel: SafetyLevel
  initialRequest?: string
  /** Why the model cannot answer right now (no model yet, still loading), if so. */
  modelNotice?: string | null
  onClose(): void
  onGenerated?(timings: { totalMs: number; firstTokenMs: number; model: string }): void
  /** A library pattern was chosen: fill in its parameters and run it (the library panel). */
  onPattern?(hit: PatternHit): void
}

type Candidate =
  | { kind: 'ai'; command: string }
  | { kind: 'history'; command: string; hit: HistorySearchHit }
  | { kind: 'pattern'; command: string; pattern: PatternHit }

export function dialectOf(shell: string | undefined): ShellDialect {
  const name = shell?.split('/').pop() ?? 'bash'
  return name === 'zsh' || name === 'fish' || name === 'sh' ? name : 'bash'
}

/**
 * Ctrl/Cmd+K: ask in words, get a command from the model (and matching history), review it with
 * its verdict, then run, edit, copy or cancel — all from the keyboard.
 */
export function Palette({
  api,
  target,
  safetyLevel,
  initialRequest = '',
  modelNotice,
  onClose,
  onGenerated,
  onPattern,
}: Props) {
  const [request, setRequest] = useState(initialRequest)
  const [hits, setHits] = useState<HistorySearchHit[]>([])
  const [patternHits, setPatternHits] = useState<PatternHit[]>([])
  const [selected, setSelected] = useState(0)
  const [editing, setEditing] = useState(false)
  /** The user's version of the command; null until they edit. It stays after editing ends. */
  const [editText, setEditText] = useState<string | null>(null)
  const [verdict, setVerdict] = useState<Verdict | null>(null)
  const [confirming, setConfirming] = useState(false)
  const [copied, setCopied] = useState(false)
  const [run, setRun] = useState<RunState | null>(null)
  const [notice, setNotice] = useState<string | null>(null)
  const { ai, ask, cancel } = useSuggestion(api, target.ptyId)
  const inputRef = useRef<HTMLInputElement>(null)
  const bodyRef = useRef<HTMLDivElement>(null)
  const decided = useRef(false)
  const shell = dialectOf(target.shell)

  // Matching history entries, as the user types.
  useEffect(() => {
    const query = request.trim()
    const timer = setTimeout(() => {
      if (!query) return setHits([])
      api
        .call('history:search', { query, mode: 'fuzzy', limit: 5 })
        .then((r) => setHits(r.hits))
        .catch(() => setHits([]))
    }, 120)
    return () => clearTimeout(timer)
  }, [api, request])

  // Matching library patterns (they answer even with no model).
  useEffect(() => {
    const query = request.trim()
    const timer = setTimeout(() => {
      if (!query || !onPattern) return setPatternHits([])
      api
        .call('library:search', { query, limit: 3 })
        .then((r) => setPatternHits(r.hits))
        .catch(() => setPatternHits([]))
    }, 120)
    return () => clearTimeout(timer)
  }, [api, request, onPattern])

  // A finished answer is a candidate even with an empty command: the card says so and E edits.
  const aiCommand = ai?.command ?? (ai?.phase === 'done' ? '' : null)
  const candidates: Candidate[] = useMemo(() => {
    const list: Candidate[] = []
    if (aiCommand !== null) list.push({ kind: 'ai', command: aiCommand })
    for (const hit of hits) {
      if (hit.command !== aiCommand) list.push({ kind: 'history', command: hit.command, hit })
    }
    for (const pattern of patternHits)
      list.push({ kind: 'pattern', command: pattern.pattern.command, pattern })
    return list
  }, [aiCommand, hits, patternHits])
  const candidate = candidates[Math.min(selected, candidates.length - 1)] ?? null
  const shownCommand = editText ?? candidate?.command ?? ''

  // The verdict always belongs to the text that would run now; re-checked on every keystroke.
  const checkSeq = useRef(0)
  useEffect(() => {
    const seq = ++checkSeq.current
    if (!shownCommand.trim()) return
    api
      .call('safety:check', { command: shownCommand, shell, level: safetyLevel })
      .then((v) => seq === checkSeq.current && setVerdict(v))
      .catch((err: unknown) => seq === checkSeq.current && setNotice(errorMessage(err)))
  }, [api, shownCommand, shell, safetyLevel])
  const currentVerdict = verdict?.command === shownCommand ? verdict : null

  // The run's result comes back from shell integration; listen before writing so it cannot be missed.
  const stopWatching = useRef<(() => void) | null>(null)
  useEffect(() => () => stopWatching.current?.(), [])
  const watchRun = (ptyId: string, command: string) => {
    stopWatching.current?.()
    const off = api.on('terminal:command', (c) => {
      if (c.ptyId !== ptyId || c.command.trim() !== command.trim()) return
      off()
      stopWatching.current = null
      setRun({ state: 'done', command, exitCode: c.exitCode, durationMs: c.durationMs })
    })
    stopWatching.current = off
  }

  useEffect(() => {
    if (ai?.phase === 'done' && ai.result) {
      const { timings, model } = ai.result
      onGenerated?.({ totalMs: timings.totalMs, firstTokenMs: timings.firstTokenMs, model })
    }
    // Report each completed request once.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [ai?.phase, ai?.requestId])

  /** Records what the user did with the model's proposal, once (a later cancel is not news). */
  const decide = (
    decision: 'ran' | 'edited' | 'copied' | 'cancelled' | 'blocked',
    finalCommand?: string,
  ) => {
    const recordId = ai?.recordId
    if (!recordId || candidate?.kind !== 'ai') return
    if (decided.current && decision === 'cancelled') return
    decided.current = true
    void api
      .call('history:updateAi', {
        id: recordId,
        decision,
        ...(finalCommand !== undefined ? { finalCommand } : {}),
        ...(target.ptyId ? { ptyId: target.ptyId } : {}),
      })
      .catch(() => undefined)
  }

  const submit = () => {
    const text = request.trim()
    if (!text) return
    decided.current = false
    setSelected(0)
    setEditing(false)
    setEditText(null)
    setConfirming(false)
    setRun(null)
    setNotice(null)
    void ask(text, {
      ...(target.cwd ? { cwd: target.cwd } : {}),
      shell,
      ...(target.gitBranch ? { gitBranch: target.gitBranch } : {}),
    })
    bodyRef.current?.focus()
  }

  const runNow = async () => {
    if (candidate?.kind === 'pattern') return onPattern?.(candidate.pattern)
    const command = shownCommand
    if (!command.trim()) return
    // Never act on a verdict for other text: check again if the last one is stale.
    const v =
      currentVerdict ?? (await api.call('safety:check', { command, shell, level: safetyLevel }))
    if (v.action === 'block') {
      setVerdict(v)
      decide('blocked', command)
      return
    }
    if (v.action === 'confirm' && !confirming) {
      setConfirming(true)
      return
    }
    if (!target.ptyId) {
      setNotice('No terminal is open to run it in.')
      return
    }
    try {
      watchRun(target.ptyId, command)
      setRun({ state: 'running', command })
      // Ctrl+U clears whatever was half-typed at the prompt first.
      await api.call('pty:write', { id: target.ptyId, data: `\x15${command}\r` })
      setConfirming(false)
      setEditing(false)
      decide(candidate?.kind === 'ai' && command !== ai?.command ? 'edited' : 'ran', command)
    } catch (err) {
      stopWatching.current?.()
      setRun(null)
      setNotice(errorMessage(err))
    }
  }

  const copy = async () => {
    if (!shownCommand.trim()) return
    try {
      await navigator.clipboard.writeText(shownCommand)
      setCopied(true)
      decide('copied', shownCommand)
    } catch (err) {
      setNotice(`Could not copy: ${errorMessage(err)}`)
    }
  }

  const close = () => {
    cancel()
    decide('cancelled')
    onClose()
  }

  // When the editor goes away (done editing, or after a run), keep the keyboard in the dialog.
  useEffect(() => {
    if (!editing && document.activeElement === document.body) bodyRef.current?.focus()
  }, [editing])

  const startEditing = () => {
    setEditText(shownCommand)
    setEditing(true)
    setConfirming(false)
  }

  const onKeyDown = (event: React.KeyboardEvent) => {
    const inInput = event.target === inputRef.current
    const inEditor = event.target instanceof HTMLTextAreaElement
    if (event.key === 'Escape') {
      event.preventDefault()
      if (editing) {
        setEditing(false)
        bodyRef.current?.focus()
      } else close()
      return
    }
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      if (inEditor || candidates.length === 0) return
      event.preventDefault()
      const step = event.key === 'ArrowDown' ? 1 : -1
      setSelected(
        (s) => (Math.min(s, candidates.length - 1) + step + candidates.length) % candidates.length,
      )
      // Another candidate: the card shows it as it is (an edit belonged to the previous one).
      setEditText(null)
      setEditing(false)
      setConfirming(false)
      setCopied(false)
      return
    }
    if (inInput) {
      if (event.key === 'Enter') {
        event.preventDefault()
        // A new request asks the model; the same request again acts on the selected candidate.
        if (candidate && (request.trim() === ai?.request || !request.trim())) void runNow()
        else submit()
      }
      return
    }
    if (inEditor || event.ctrlKey || event.metaKey || event.altKey) return
    if (event.key === 'Enter') {
      event.preventDefault()
      void runNow()
    } else if ((event.key === 'e' || event.key === 'E' || event.key === 'Tab') && candidate) {
      event.preventDefault()
      startEditing()
    } else if ((event.key === 'c' || event.key === 'C') && candidate) {
      event.preventDefault()
      void copy()
    } else if (event.key === '/') {
      event.preventDefault()
      inputRef.current?.focus()
    }
  }

  const content: CardContent | null =
    candidate && candidate.kind !== 'pattern'
      ? candidate.kind === 'ai'
        ? {
            source: 'ai',
            command: candidate.command,
            explanation: ai?.explanation ?? (ai?.phase === 'done' ? '' : ''),
            assumptions: ai?.result?.assumptions ?? [],
            needsInput: ai?.result?.needsInput ?? null,
            model: ai?.result?.model,
            streaming: ai?.phase === 'command',
          }
        : {
            source: 'history',
            command: candidate.command,
            historyNote: historyNote(candidate.hit),
          }
      : null

  return (
    <Overlay labelledBy="palette-title" testId="palette" onClose={close} onKeyDown={onKeyDown}>
      <h2 id="palette-title" className="sr-only">
        Ask for a command
      </h2>
      <div className="palette-input">
        <span aria-hidden="true" className="palette-prompt">
          ›
        </span>
        <input
          ref={inputRef}
          autoFocus
          aria-label="Describe the command you want"
          placeholder="Describe what you want to do, e.g. find PDFs over 10MB in Downloads"
          value={request}
          onChange={(e) => setRequest(e.target.value)}
          spellCheck={false}
        />
        <span className="palette-where muted" title={target.cwd}>
          {target.cwd ? `in ${target.cwd}` : ''}
        </span>
      </div>
      <div className="palette-body" ref={bodyRef} tabIndex={-1} aria-live="polite">
        {ai && (ai.phase === 'thinking' || (ai.phase === 'error' && !candidate)) && (
          <div className="palette-status" data-testid="palette-status">
            {ai.phase === 'thinking'
              ? `Thinking… ${ai.streamedChars ? `(${ai.streamedChars} characters)` : ''}`
              : modelUnavailable(ai.errorCode) && modelNotice
                ? modelNotice
                : ai.error}
          </div>
        )}
        {ai?.phase === 'error' && candidate && (
          <div className="palette-status muted">
            {modelUnavailable(ai.errorCode) && modelNotice ? modelNotice : ai.error} Showing matches
            from your history.
          </div>
        )}
        {!ai && modelNotice && <div className="palette-status muted">{modelNotice}</div>}
        {content && (
          <SuggestionCard
            content={content}
            command={shownCommand}
            verdict={currentVerdict}
            editing={editing}
            confirming={confirming}
            run={run}
            copied={copied}
            onEditText={(text) => {
              setEditText(text)
              setConfirming(false)
              setCopied(false)
            }}
            onRun={() => void runNow()}
            onEdit={() => (editing ? setEditing(false) : startEditing())}
            onCopy={() => void copy()}
            onCancel={close}
          />
        )}
        {candidate?.kind === 'pattern' && (
          <div className="card" data-testid="palette-pattern">
            <p>
              <strong>{candidate.pattern.pattern.title}</strong>{' '}
              <span className="muted">
                from {candidate.pattern.library} · {candidate.pattern.risk} template
              </span>
            </p>
            <code>{showControls(candidate.command)}</code>
            <p className="muted">Enter: fill in its parameters and run it.</p>
          </div>
        )}
        {notice && (
          <p className="palette-notice" role="alert">
            {notice}
          </p>
        )}
        {candidates.length > 1 && (
          <ul className="candidates" role="listbox" aria-label="Other candidates">
            {candidates.map((c, index) => (
              <li
                key={`${c.kind}:${c.command}`}
                role="option"
                aria-selected={index === Math.min(selected, candidates.length - 1)}
                onMouseDown={(e) => e.preventDefault()}
                onClick={() => {
                  setSelected(index)
                  setEditText(null)
                  setEditing(false)
                  setConfirming(false)
                }}
              >
                <span className="candidate-kind">
                  {c.kind === 'ai' ? 'AI' : c.kind === 'pattern' ? 'pattern' : 'history'}
                </span>
                <code>{showControls(c.command)}</code>
              </li>
            ))}
          </ul>
        )}
      </div>
      <footer className="palette-help muted">
        Enter ask / run · ↑↓ choose · E edit · C copy · Esc close
      </footer>
    </Overlay>
  )
}

/** The model could not answer because there is none yet, or it is not loaded. */
function modelUnavailable(code: string | null): boolean {
  return code === 'unavailable' || code === 'not_found'
}

function historyNote(hit: HistorySearchHit): string {
  const exit = hit.last.exitCode === null ? '' : `, last exit ${hit.last.exitCode}`
  const where = hit.last.cwd ? ` in ${hit.last.cwd}` : ''
  return `Ran ${hit.uses} time${hit.uses === 1 ? '' : 's'}${exit}${where}.`
}
