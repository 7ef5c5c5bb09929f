import { useState } from 'react'
import type {
  ConsoleSession,
  InviteCreated,
  InviteView,
  MemberView,
} from '../../../../contract/console'
import { ROLES, type Role } from '../../../../contract/sync'
import { get, post } from '../api'
import { Copy, Empty, Head, Loading, Note, Page, When } from '../ui/bits'
import { useAction, useLoad } from '../ui/hooks'

/** Members and roles; invite links with a role and an expiry. */
export function MembersPage({ session }: { session: ConsoleSession }) {
  const members = useLoad(() => get<{ members: MemberView[] }>('/members'), 'members')
  const invites = useLoad(() => get<{ invites: InviteView[] }>('/invites'), 'invites')
  const action = useAction()
  const [created, setCreated] = useState<InviteCreated | null>(null)
  const [role, setRole] = useState<Role>('engineer')
  const [hours, setHours] = useState(48)
  const [note, setNote] = useState('')

  const change = async (fn: () => Promise<unknown>, ok: string) => {
    await action.run(fn, ok)
    members.reload()
  }

  return (
    <Page title="Members">
      <Note note={action.note} />
      <Loading error={members.error} loading={members.loading && !members.data} />
      {members.data && (
        <table className="grid" data-testid="members-table">
          <caption>
            {members.data.members.length} members of {session.team}
          </caption>
          <Head cols={['Member', 'Role', 'Online', 'Active tokens', 'Member since', '']} />
          <tbody>
            {members.data.members.map((m) => (
              <tr key={m.user}>
                <th scope="row">{m.user}</th>
                <td>
                  <select
                    aria-label={`Role of ${m.user}`}
                    value={m.role}
                    disabled={action.busy}
                    onChange={(e) =>
                      void change(
                        () => post('/members/role', { user: m.user, role: e.target.value }),
                        `${m.user} is now ${e.target.value}`,
                      )
                    }
                  >
                    {ROLES.map((r) => (
                      <option key={r}>{r}</option>
                    ))}
                  </select>
                </td>
                <td>{m.online > 0 ? `${m.online} connection${m.online > 1 ? 's' : ''}` : 'no'}</td>
                <td>{m.activeTokens}</td>
                <td>
                  <When t={m.createdAt} />
                </td>
                <td>
                  <button
                    type="button"
                    className="danger"
                    disabled={action.busy || m.user === session.user}
                    onClick={() => {
                      if (
                        confirm(
                          `Remove ${m.user} from ${session.team}? Their tokens are revoked and open connections close.`,
                        )
                      )
                        void change(
                          () => post('/members/remove', { user: m.user }),
                          `${m.user} removed`,
                        )
                    }}
                  >
                    Remove {m.user}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2>Invite someone</h2>
      <form
        className="inline-form"
        data-testid="invite-form"
        onSubmit={(e) => {
          e.preventDefault()
          void action
            .run(
              () => post<InviteCreated>('/invites', { role, hours, note }),
              'Invite link created',
            )
            .then((r) => {
              if (r) setCreated(r)
              invites.reload()
            })
        }}
      >
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <label>
          Link valid for (hours)
          <input
            type="number"
            min={1}
            max={720}
            value={hours}
            onChange={(e) => setHours(Number(e.target.value))}
          />
        </label>
        <label>
          Note (optional)
          <input value={note} maxLength={200} onChange={(e) => setNote(e.target.value)} />
        </label>
        <button type="submit" className="primary" disabled={action.busy}>
          Create invite link
        </button>
      </form>
      {created && (
        <div className="callout" data-testid="invite-link">
          <p>
            Send this link to the person you invite (it works once, until{' '}
            <When t={created.invite.expiresAt} />; it is not shown again):
          </p>
          <code className="token">{created.link}</code>{' '}
          <Copy text={created.link} label="Copy link" />
        </div>
      )}

      <h2>Invites</h2>
      <Loading error={invites.error} loading={invites.loading && !invites.data} />
      {invites.data && invites.data.invites.length === 0 && <Empty>No invites yet.</Empty>}
      {invites.data && invites.data.invites.length > 0 && (
        <table className="grid">
          <caption className="sr-only">Invite links</caption>
          <Head cols={['Role', 'Note', 'By', 'Expires', 'Status', '']} />
          <tbody>
            {invites.data.invites.map((i) => (
              <tr key={i.id}>
                <td>{i.role}</td>
                <td>{i.note || <span className="muted">—</span>}</td>
                <td>{i.createdBy}</td>
                <td>
                  <When t={i.expiresAt} />
                </td>
                <td>{i.status === 'used' ? `used by ${i.usedBy}` : i.status}</td>
                <td>
                  {i.status === 'open' && (
                    <button
                      type="button"
                      onClick={() =>
                        void action
                          .run(() => post('/invites/revoke', { id: i.id }), 'Invite revoked')
                          .then(() => invites.reload())
                      }
                    >
                      Revoke invite
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Page>
  )
}
