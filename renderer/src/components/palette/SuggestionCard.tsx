import { useEffect, useRef, useState } from 'react'
import type { Risk, Verdict } from '../../../../contract'
import { showControls } from '../../../../contract/display'
import { CommandView } from './CommandView'
import { VerdictBadge } from './VerdictBadge'

export interface CardContent {
  /** Where the command came from: the model, or the user's history. */
  source: 'ai' | 'history'
  /** The command as proposed (before any edit by the user). */
  command: string
  explanation?: string
  assumptions?: string[]
  needsInput?: string | null
  /** For history entries: how often and how it went. */
  historyNote?: string
  model?: string
  /** The explanation is still streaming in. */
  streaming?: boolean
}

export type RunState =
  | { state: 'running'; command: string }
  | { state: 'done'; command: string; exitCode: number | null; durationMs: number }

interface Props {
  content: CardContent
  /**
   * The text that Run, Copy and the verdict act on: the user's edit once there is one (also after
   * the editor closes), else the proposal. The card always shows this text.
   */
  command: string
  /** The verdict of `command`; null while it is being checked. */
  verdict: Verdict | null
  editing: boolean
  confirming: boolean
  run: RunState | null
  copied: boolean
  onEditText(text: string): void
  onRun(): void
  onEdit(): void
  onCopy(): void
  onCancel(): void
}

/** The command, what it does, what the safety engine says about it, and what the user can do. */
export function SuggestionCard(props: Props) {
  const { content, command, verdict, editing, confirming, run } = props
  const [focusedReason, setFocusedReason] = useState<number | null>(null)
  const empty = !command.trim()
  const edited = command !== content.command
  const blocked = verdict?.action === 'block'
  const needsConfirm = verdict?.action === 'confirm'
  const assumptions = (content.assumptions ?? []).filter((a) => a.trim())
  const risky = verdict?.reasons.filter((r) => r.risk === 'high' || r.risk === 'critical') ?? []
  // A result shown on the card belongs to exactly the text on the card.
  const shownRun = run && run.command === command ? run : null

  return (
    <section
      className={`suggestion-card ${verdict ? `card-risk-${verdict.risk}` : ''}`}
      aria-label="Suggested command"
      data-testid="suggestion-card"
      data-risk={verdict?.risk ?? 'pending'}
      data-action={verdict?.action ?? 'pending'}
      data-streaming={content.streaming ? 'true' : 'false'}
    >
      <div className="card-head">
        <span className="card-source">
          {content.source === 'ai'
            ? `Suggested by ${content.model ?? 'the model'}`
            : 'From your history'}
          {edited && !empty && <span data-testid="card-edited"> · edited by you</span>}
        </span>
        <span className="card-verdict" aria-live="polite">
          {verdict ? (
            <VerdictBadge risk={verdict.risk} />
          ) : empty ? (
            <span className="muted">nothing to check</span>
          ) : (
            <span className="muted">checking…</span>
          )}
        </span>
      </div>

      {editing ? (
        <label className="card-edit">
          <span className="sr-only">Edit the command</span>
          <CommandEditor value={command} onChange={props.onEditText} onRun={props.onRun} />
        </label>
      ) : (
        <div className="card-command" data-testid="card-command">
          {!empty ? (
            <CommandView
              command={command}
              reasons={verdict?.reasons}
              focusedReason={focusedReason}
            />
          ) : (
            <span className="muted">
              {edited ? 'The command is empty.' : 'No command was proposed.'} Press E to write one.
            </span>
          )}
        </div>
      )}
      {editing && command && (
        <div className="card-command card-command-preview" aria-hidden="true">
          <CommandView command={command} reasons={verdict?.reasons} focusedReason={focusedReason} />
        </div>
      )}

      {content.explanation !== undefined && (
        <p className="card-explanation" data-testid="card-explanation">
          {content.explanation}
          {content.streaming && <span className="cursor-blink" aria-hidden="true" />}
        </p>
      )}
      {content.historyNote && <p className="card-explanation">{content.historyNote}</p>}
      {assumptions.length > 0 && (
        <div className="card-assumptions">
          <span className="muted">Assumes:</span>
          <ul>
            {assumptions.map((a) => (
              <li key={a}>{a}</li>
            ))}
          </ul>
        </div>
      )}
      {content.needsInput && (
        <p className="card-needs-input" role="note">
          Needs from you: {content.needsInput}
        </p>
      )}

      {verdict && verdict.reasons.length > 0 && (
        <ul className="card-reasons" id="card-reasons" aria-label="Why this rating">
          {verdict.reasons.map((reason, index) => (
            <li
              key={`${reason.ruleId}-${index}`}
              className={`reason risk-${reason.risk}`}
              onMouseEnter={() => setFocusedReason(index)}
              onMouseLeave={() => setFocusedReason(null)}
            >
              <VerdictBadge risk={reason.risk} /> {reason.message}
              {reason.span && (
                <code className="reason-span">
                  {showControls(command.slice(reason.span.start, reason.span.end))}
                </code>
              )}
              <span className="reason-rule">{reason.ruleId}</span>
            </li>
          ))}
        </ul>
      )}
      {verdict?.parseError && (
        <p className="card-warning">Could not fully parse: {verdict.parseError}</p>
      )}
      {verdict?.policy && (
        <p className="card-policy" data-testid="card-policy">
          {verdict.policy.source === 'rule'
            ? `Policy rule ${verdict.policy.ruleId ?? ''}${verdict.policy.reason ? `: ${verdict.policy.reason}` : ''}`
            : `Safety level: ${verdict.policy.level}`}{' '}
          →{' '}
          {verdict.action === 'allow'
            ? 'runs'
            : verdict.action === 'confirm'
              ? 'asks first'
              : 'blocked'}
        </p>
      )}

      {blocked && (
        <p className="card-blocked" role="alert" data-testid="card-blocked">
          Blocked: {risky[0]?.message ?? 'this command is not allowed by your safety settings'}.
          Edit it to something safer.
        </p>
      )}
      {confirming && needsConfirm && verdict && <Confirmation verdict={verdict} />}

      {shownRun && (
        <p className="card-run" data-testid="card-run" aria-live="polite">
          {shownRun.state === 'running'
            ? 'Running in the terminal…'
            : `${shownRun.exitCode === 0 ? '✓' : '✗'} exited with ${shownRun.exitCode ?? '?'} in ${formatMs(shownRun.durationMs)}`}
        </p>
      )}

      <div className="card-actions">
        <button
          className="primary"
          onClick={props.onRun}
          disabled={blocked || empty}
          aria-keyshortcuts="Enter"
        >
          {confirming && needsConfirm ? 'Run anyway' : 'Run'} <kbd>Enter</kbd>
        </button>
        <button onClick={props.onEdit} aria-keyshortcuts="E Tab">
          {editing ? 'Done editing' : 'Edit'} <kbd>E</kbd>
        </button>
        <button onClick={props.onCopy} disabled={empty} aria-keyshortcuts="C">
          {props.copied ? 'Copied' : 'Copy'} <kbd>C</kbd>
        </button>
        <button onClick={props.onCancel} aria-keyshortcuts="Escape">
          Cancel <kbd>Esc</kbd>
        </button>
      </div>
    </section>
  )
}

const RANK: Record<Risk, number> = { safe: 0, moderate: 1, high: 2, critical: 3 }
const RISK_WORDS: Record<Risk, string> = {
  safe: 'safe',
  moderate: 'moderate-risk',
  high: 'high-risk',
  critical: 'critical',
}

/**
 * The second question before a command that needs one: it names the command's own risk and what
 * asked for the confirmation (the safety level or a policy rule), never a stronger word.
 */
function Confirmation({ verdict }: { verdict: Verdict }) {
  const words = RISK_WORDS[verdict.risk]
  const why = verdict.reasons
    .filter((r) => r.risk !== 'safe' && RANK[r.risk] >= RANK[verdict.risk])
    .map((r) => r.message.replace(/\.$/, ''))
  const policy = verdict.policy
  const asks =
    policy?.source === 'rule'
      ? `Policy rule ${policy.ruleId ?? ''} asks first${policy.reason ? `: ${policy.reason.replace(/\.$/, '')}` : ''}.`
      : policy
        ? `The ${policy.level} safety level asks before ${words} commands.`
        : ''
  return (
    <div
      className="card-confirm"
      role="alertdialog"
      aria-label={verdict.risk === 'safe' ? 'Confirm this command' : `Confirm a ${words} command`}
      data-testid="card-confirm"
    >
      <strong>
        {verdict.risk === 'safe' ? 'Confirm first' : `This is ${words.replace('-', ' ')}`}:
      </strong>{' '}
      {why.length > 0 ? `${why.join('; ')}.` : ''} {asks} Press Enter again or choose “Run anyway”
      to go ahead.
    </div>
  )
}

/** The editor: focused with the caret at the end, so typing adds to the command. */
function CommandEditor(props: { value: string; onChange(text: string): void; onRun(): void }) {
  const ref = useRef<HTMLTextAreaElement>(null)
  useEffect(() => {
    const el = ref.current
    if (!el) return
    el.focus()
    el.setSelectionRange(el.value.length, el.value.length)
  }, [])
  return (
    <textarea
      ref={ref}
      spellCheck={false}
      value={props.value}
      rows={Math.min(6, Math.max(1, props.value.split('\n').length))}
      onChange={(e) => props.onChange(e.target.value)}
      onKeyDown={(e) => {
        if (e.key === 'Enter' && !e.shiftKey) {
          e.preventDefault()
          props.onRun()
        }
      }}
      aria-describedby="card-reasons"
    />
  )
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`
}
