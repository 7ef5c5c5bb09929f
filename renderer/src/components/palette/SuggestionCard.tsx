import { useState } from 'react'
import type { Verdict } from '../../../../contract'
import { CommandView } from './CommandView'
import { VerdictBadge } from './VerdictBadge'

export interface CardContent {
  /** Where the command came from: the model, or the user's history. */
  source: 'ai' | 'history'
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
  /** The verdict of what would run now (the edited text while editing). */
  verdict: Verdict | null
  editing: boolean
  editText: string
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
  const { content, verdict, editing, editText, confirming, run } = props
  const [focusedReason, setFocusedReason] = useState<number | null>(null)
  const command = editing ? editText : content.command
  const blocked = verdict?.action === 'block'
  const needsConfirm = verdict?.action === 'confirm'
  const assumptions = (content.assumptions ?? []).filter((a) => a.trim())
  const risky = verdict?.reasons.filter((r) => r.risk === 'high' || r.risk === 'critical') ?? []

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
        </span>
        <span className="card-verdict" aria-live="polite">
          {verdict ? (
            <VerdictBadge risk={verdict.risk} />
          ) : (
            <span className="muted">checking…</span>
          )}
        </span>
      </div>

      {editing ? (
        <label className="card-edit">
          <span className="sr-only">Edit the command</span>
          <textarea
            autoFocus
            spellCheck={false}
            value={editText}
            rows={Math.min(6, Math.max(1, editText.split('\n').length))}
            onChange={(e) => props.onEditText(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && !e.shiftKey) {
                e.preventDefault()
                props.onRun()
              }
            }}
            aria-describedby="card-reasons"
          />
        </label>
      ) : (
        <div className="card-command">
          {command.trim() ? (
            <CommandView
              command={command}
              reasons={verdict?.reasons}
              focusedReason={focusedReason}
            />
          ) : (
            <span className="muted">No command was proposed. Press E to write one.</span>
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
                  {command.slice(reason.span.start, reason.span.end)}
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
      {confirming && needsConfirm && (
        <div className="card-confirm" role="alertdialog" aria-label="Confirm a high-risk command">
          <strong>This is high risk:</strong>{' '}
          {risky.map((r) => r.message.replace(/\.$/, '')).join('; ') || 'it changes your system'}.{' '}
          Press Enter again or choose “Run anyway” to go ahead.
        </div>
      )}

      {run && (
        <p className="card-run" data-testid="card-run" aria-live="polite">
          {run.state === 'running'
            ? 'Running in the terminal…'
            : `${run.exitCode === 0 ? '✓' : '✗'} exited with ${run.exitCode ?? '?'} in ${formatMs(run.durationMs)}`}
        </p>
      )}

      <div className="card-actions">
        <button
          className="primary"
          onClick={props.onRun}
          disabled={blocked || !command.trim()}
          aria-keyshortcuts="Enter"
        >
          {confirming && needsConfirm ? 'Run anyway' : 'Run'} <kbd>Enter</kbd>
        </button>
        <button onClick={props.onEdit} aria-keyshortcuts="E Tab">
          {editing ? 'Done editing' : 'Edit'} <kbd>E</kbd>
        </button>
        <button onClick={props.onCopy} aria-keyshortcuts="C">
          {props.copied ? 'Copied' : 'Copy'} <kbd>C</kbd>
        </button>
        <button onClick={props.onCancel} aria-keyshortcuts="Escape">
          Cancel <kbd>Esc</kbd>
        </button>
      </div>
    </section>
  )
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`
}
