import { useCallback, useEffect, useRef, useState } from 'react'
import type { AgentApproval } from '../../../../contract'
import { showControls } from '../../../../contract/display'
import { errorMessage, type Api } from '../../api/client'
import { focusActiveTerminal } from '../../lib/focus'
import { matchesShortcut } from '../../lib/shortcuts'
import { CommandView } from '../palette/CommandView'
import { VerdictBadge } from '../palette/VerdictBadge'
import './agents.css'

/** Moves the keyboard to the waiting request (and back to the terminal with Esc). */
export const REVIEW_SHORTCUT = 'Ctrl+Shift+A'

/**
 * A notice when a coding agent's command waits for the user's approval (`cmdai mcp`'s
 * run_command, for a command the policy wants confirmed). It never takes the keyboard by itself,
 * so typing in the terminal cannot approve anything: Ctrl+Shift+A (or a click) moves to it, then
 * Enter approves (a second Enter for a high-risk command, as on the palette's card), D denies
 * (with the reason typed in the field, if any), ↑↓ switch between requests, Esc goes back to the
 * terminal and leaves the request waiting.
 */
export function AgentApprovals({ api }: { api: Api }) {
  const [waiting, setWaiting] = useState<AgentApproval[]>([])
  const [index, setIndex] = useState(0)
  const [confirming, setConfirming] = useState<string | null>(null)
  const [reason, setReason] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [now, setNow] = useState(() => Date.now())
  const card = useRef<HTMLElement>(null)

  useEffect(() => {
    let live = true
    api.call('agent:pending', {}).then(
      (r) => live && setWaiting((w) => merge(w, r.approvals)),
      () => undefined,
    )
    const offAdd = api.on('agent:approvalRequested', (a) => setWaiting((w) => merge(w, [a])))
    const offDone = api.on('agent:approvalSettled', ({ id }) =>
      setWaiting((w) => w.filter((a) => a.id !== id)),
    )
    return () => {
      live = false
      offAdd()
      offDone()
    }
  }, [api])

  // The countdown to expiry.
  useEffect(() => {
    if (!waiting.length) return
    const timer = setInterval(() => setNow(Date.now()), 1000)
    return () => clearInterval(timer)
  }, [waiting.length])

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (!matchesShortcut(event, REVIEW_SHORTCUT) || !card.current) return
      event.preventDefault()
      event.stopPropagation()
      card.current.focus()
    }
    window.addEventListener('keydown', onKey, true)
    return () => window.removeEventListener('keydown', onKey, true)
  }, [])

  const current = waiting[Math.min(index, waiting.length - 1)]

  const decide = useCallback(
    async (approval: AgentApproval, decision: 'approve' | 'deny') => {
      setConfirming(null)
      setError(null)
      const hadFocus = card.current?.contains(document.activeElement) ?? false
      try {
        await api.call('agent:decide', {
          id: approval.id,
          decision,
          ...(decision === 'deny' && reason.trim() ? { reason: reason.trim() } : {}),
        })
        setReason('')
        setWaiting((w) => w.filter((a) => a.id !== approval.id))
        if (hadFocus) focusActiveTerminal()
      } catch (err) {
        setError(errorMessage(err))
      }
    },
    [api, reason],
  )

  if (!current) return null
  const risky = current.verdict.risk === 'high' || current.verdict.risk === 'critical'
  const secondsLeft = Math.max(0, Math.round((current.expiresAt - now) / 1000))

  const onKeyDown = (event: React.KeyboardEvent) => {
    const inReason = event.target instanceof HTMLInputElement
    if (event.key === 'Escape') {
      event.preventDefault()
      if (confirming) setConfirming(null)
      else focusActiveTerminal()
    } else if (event.key === 'Enter' && !(event.target instanceof HTMLButtonElement)) {
      event.preventDefault()
      if (risky && confirming !== current.id) setConfirming(current.id)
      else void decide(current, 'approve')
    } else if ((event.key === 'd' || event.key === 'D') && !inReason) {
      event.preventDefault()
      void decide(current, 'deny')
    } else if ((event.key === 'ArrowDown' || event.key === 'ArrowUp') && waiting.length > 1) {
      event.preventDefault()
      setConfirming(null)
      const step = event.key === 'ArrowDown' ? 1 : -1
      setIndex((i) => (i + step + waiting.length) % waiting.length)
    }
  }

  const reasons = current.verdict.reasons.filter((r) => r.risk !== 'safe').slice(0, 3)
  return (
    <section
      ref={card}
      className={`agent-approval card-risk-${current.verdict.risk}`}
      role="region"
      aria-label="An agent's command waits for your approval"
      aria-keyshortcuts={REVIEW_SHORTCUT}
      data-testid="agent-approval"
      tabIndex={-1}
      onKeyDown={onKeyDown}
    >
      <p className="agent-approval-head" aria-live="polite">
        <strong>{showControls(current.client.name)}</strong> wants to run
        {waiting.length > 1 && (
          <span className="muted">
            {' '}
            · request {Math.min(index, waiting.length - 1) + 1} of {waiting.length} (↑↓)
          </span>
        )}
        <span className="agent-approval-verdict">
          <VerdictBadge risk={current.verdict.risk} />
        </span>
      </p>
      <CommandView command={current.command} reasons={current.verdict.reasons} />
      <p className="muted agent-approval-where">
        in {current.cwd ? showControls(current.cwd) : 'its working directory'} · expires in{' '}
        {Math.floor(secondsLeft / 60)}:{String(secondsLeft % 60).padStart(2, '0')}
      </p>
      {reasons.length > 0 && (
        <ul className="agent-approval-reasons">
          {reasons.map((r, i) => (
            <li key={i}>
              <span className={`risk-${r.risk}`}>{r.risk}</span> {r.message}
            </li>
          ))}
        </ul>
      )}
      {confirming === current.id && (
        <p className="agent-approval-confirm" role="alert">
          This is a {current.verdict.risk}-risk command. Press Enter again to let{' '}
          {showControls(current.client.name)} run it, Esc to think again.
        </p>
      )}
      {error && (
        <p className="palette-notice" role="alert">
          {error}
        </p>
      )}
      <div className="agent-approval-actions">
        <input
          aria-label="Reason for denying (optional, sent to the agent)"
          placeholder="Reason (optional)"
          value={reason}
          maxLength={500}
          onChange={(e) => setReason(e.target.value)}
        />
        <button
          className="primary"
          aria-keyshortcuts="Enter"
          onClick={() =>
            risky && confirming !== current.id
              ? setConfirming(current.id)
              : void decide(current, 'approve')
          }
        >
          Approve
        </button>
        <button aria-keyshortcuts="D" onClick={() => void decide(current, 'deny')}>
          Deny
        </button>
      </div>
      <p className="palette-help muted">
        {REVIEW_SHORTCUT} review · Enter approve · D deny · Esc back to the terminal
      </p>
    </section>
  )
}

function merge(current: AgentApproval[], more: AgentApproval[]): AgentApproval[] {
  const ids = new Set(current.map((a) => a.id))
  return [...current, ...more.filter((a) => !ids.has(a.id))]
}
