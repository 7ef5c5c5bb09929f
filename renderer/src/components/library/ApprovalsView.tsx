import { useState } from 'react'
import type { Approval } from '../../../../contract'
import { errorMessage, type Api } from '../../api/client'
import { VerdictBadge } from '../palette/VerdictBadge'

/** Requests waiting for this user's decision, and the user's own requests. */
export function ApprovalsView({
  api,
  approvals,
  errors,
  me,
}: {
  api: Api
  approvals: Approval[]
  errors: string[]
  me: Set<string>
}) {
  const [comments, setComments] = useState<Record<string, string>>({})
  const [error, setError] = useState<string | null>(null)
  const decide = (a: Approval, decision: 'approve' | 'deny') =>
    api
      .call('approval:decide', { team: a.team, id: a.id, decision, comment: comments[a.id] ?? '' })
      .then(() => setError(null))
      .catch((err: unknown) => setError(errorMessage(err)))
  const toDecide = approvals.filter(
    (a) => a.status === 'pending' && !me.has(`${a.team}/${a.requester}`),
  )
  const mine = approvals.filter((a) => me.has(`${a.team}/${a.requester}`))
  return (
    <div className="approvals" data-testid="approvals">
      <h3>Waiting for a decision</h3>
      {toDecide.length === 0 && <p className="muted">Nothing waits for you.</p>}
      <ul>
        {toDecide.map((a) => (
          <li key={a.id} className="approval-item" data-testid="approval-item">
            <div>
              <strong>{a.requester}</strong> ({a.requesterRole}, {a.team}) asks to run{' '}
              <VerdictBadge risk={a.risk} />
            </div>
            <pre className="card-command">{a.command}</pre>
            <p>“{a.reason}”</p>
            <input
              type="text"
              aria-label={`Comment for ${a.requester}`}
              placeholder="Comment (optional)"
              value={comments[a.id] ?? ''}
              onChange={(e) => setComments((c) => ({ ...c, [a.id]: e.target.value }))}
            />{' '}
            <button type="button" className="primary" onClick={() => void decide(a, 'approve')}>
              Approve
            </button>{' '}
            <button type="button" onClick={() => void decide(a, 'deny')}>
              Deny
            </button>
          </li>
        ))}
      </ul>
      <h3>Your requests</h3>
      {mine.length === 0 && <p className="muted">None.</p>}
      <ul>
        {mine.map((a) => (
          <li key={a.id} className={`approval-item approval-${a.status}`}>
            <code>{a.command}</code> — {a.status}
            {a.decidedBy ? ` by ${a.decidedBy}` : ''}
            {a.comment ? `: ${a.comment}` : ''}
          </li>
        ))}
      </ul>
      {[...errors, ...(error ? [error] : [])].map((e) => (
        <p key={e} className="palette-notice" role="alert">
          {e}
        </p>
      ))}
    </div>
  )
}
