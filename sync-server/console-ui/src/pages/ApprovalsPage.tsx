import { useEffect, useState } from 'react'
import type { Approval } from '../../../../contract/approvals'
import type { ApprovalsView, ConsoleSession } from '../../../../contract/console'
import { API, get, post } from '../api'
import { Empty, Head, Loading, Note, Page, Risk, When } from '../ui/bits'
import { useAction, useLoad } from '../ui/hooks'

/** Pending requests live (server-sent events), decided with a comment; the history of decisions. */
export function ApprovalsPage({
  session,
  focus,
}: {
  session: ConsoleSession
  focus: string | null
}) {
  const initial = useLoad(() => get<ApprovalsView>('/approvals'), 'approvals')
  // Live changes on top of the list loaded first.
  const [updates, setUpdates] = useState(new Map<string, Approval>())
  const [live, setLive] = useState(false)
  const byId = new Map((initial.data?.approvals ?? []).map((a) => [a.id, a]))
  for (const [id, a] of updates) byId.set(id, a)

  useEffect(() => {
    const source = new EventSource(`${API}/approvals/stream`)
    source.onopen = () => setLive(true)
    source.onerror = () => setLive(false)
    source.addEventListener('approval', (e) => {
      const a = JSON.parse((e as MessageEvent<string>).data) as Approval
      setUpdates((m) => new Map(m).set(a.id, a))
    })
    return () => source.close()
  }, [])
  const ready = initial.data !== null
  useEffect(() => {
    if (focus && ready) document.getElementById(`approval-${focus}`)?.focus()
  }, [focus, ready])

  const all = [...byId.values()].sort((a, b) => b.createdAt - a.createdAt)
  const pending = all.filter((a) => a.status === 'pending')
  const decided = all.filter((a) => a.status !== 'pending')
  return (
    <Page
      title="Approvals"
      actions={
        <span className={`live ${live ? 'on' : ''}`}>{live ? 'live' : 'reconnecting…'}</span>
      }
    >
      <Loading error={initial.error} loading={initial.loading && !initial.data} />
      <h2>Waiting for a decision ({pending.length})</h2>
      {pending.length === 0 && <Empty>Nothing is waiting.</Empty>}
      <ul className="approvals" data-testid="pending-approvals">
        {pending.map((a) => (
          <PendingItem
            key={a.id}
            a={a}
            me={session.user}
            focused={a.id === focus}
            onDecided={(x) => setUpdates((m) => new Map(m).set(x.id, x))}
          />
        ))}
      </ul>
      <h2>Decided</h2>
      {decided.length === 0 ? (
        <Empty>No decisions yet.</Empty>
      ) : (
        <table className="grid" data-testid="approval-history">
          <caption className="sr-only">Decisions, newest first</caption>
          <Head cols={['Asked', 'By', 'Command', 'Risk', 'Outcome', 'Decided by', 'Comment']} />
          <tbody>
            {decided.map((a) => (
              <tr key={a.id} id={`approval-${a.id}`} tabIndex={-1}>
                <td>
                  <When t={a.createdAt} />
                </td>
                <td>{a.requester}</td>
                <td>
                  <code>{a.command}</code>
                </td>
                <td>
                  <Risk risk={a.risk} />
                </td>
                <td>{a.status}</td>
                <td>{a.decidedBy ?? '—'}</td>
                <td>{a.comment || '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Page>
  )
}

function PendingItem({
  a,
  me,
  focused,
  onDecided,
}: {
  a: Approval
  me: string
  focused: boolean
  onDecided: (a: Approval) => void
}) {
  const [comment, setComment] = useState('')
  const action = useAction()
  const mine = a.requester === me
  const decide = (decision: 'approve' | 'deny') =>
    void action
      .run(() =>
        post<Approval>(`/approvals/${encodeURIComponent(a.id)}/decision`, { decision, comment }),
      )
      .then((x) => x && onDecided(x))
  return (
    <li
      className={`approval ${focused ? 'focused' : ''}`}
      id={`approval-${a.id}`}
      tabIndex={-1}
      data-testid="approval"
    >
      <p>
        <strong>{a.requester}</strong> ({a.requesterRole}) asks to run a <Risk risk={a.risk} />{' '}
        command
        {a.library ? ` from ${a.library}` : ''}:
      </p>
      <pre>
        <code>{a.command}</code>
      </pre>
      <p>Reason: {a.reason}</p>
      <p className="muted small">
        Asked <When t={a.createdAt} />, expires <When t={a.expiresAt} />
      </p>
      {mine ? (
        <p className="muted">You asked for this one: another approver decides it.</p>
      ) : (
        <div className="decide">
          <label>
            Comment for {a.requester}
            <input value={comment} onChange={(e) => setComment(e.target.value)} maxLength={2000} />
          </label>
          <button
            type="button"
            className="primary"
            disabled={action.busy}
            onClick={() => decide('approve')}
          >
            Approve
          </button>
          <button
            type="button"
            className="danger"
            disabled={action.busy}
            onClick={() => decide('deny')}
          >
            Deny
          </button>
        </div>
      )}
      <Note note={action.note} />
    </li>
  )
}
