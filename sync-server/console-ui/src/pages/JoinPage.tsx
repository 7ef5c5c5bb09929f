import { useState } from 'react'
import type { InviteRedeemed } from '../../../../contract/console'
import { post } from '../api'
import { Copy, Note } from '../ui/bits'
import { useAction } from '../ui/hooks'

/** Public: an invitee opens the invite link, picks their user id and gets a token for the app. */
export function JoinPage({
  code,
  theme,
}: {
  code: string
  theme: { toggle(): void; next: string }
}) {
  const [user, setUser] = useState('')
  const [joined, setJoined] = useState<InviteRedeemed | null>(null)
  const action = useAction()
  return (
    <main className="center join" id="main">
      <h1>Join a cmdai team</h1>
      <button type="button" className="corner" onClick={theme.toggle}>
        {theme.next === 'dark' ? 'Dark' : 'Light'} theme
      </button>
      {!joined ? (
        <form
          onSubmit={(e) => {
            e.preventDefault()
            void action.run(async () =>
              setJoined(await post<InviteRedeemed>('/invites/redeem', { code, user })),
            )
          }}
        >
          <p>This invite link works once. Choose the user id your teammates will see.</p>
          <label>
            Your user id
            <input
              value={user}
              onChange={(e) => setUser(e.target.value)}
              placeholder="ana or ana@example.com"
              autoComplete="username"
              required
              pattern="[A-Za-z0-9][A-Za-z0-9._@+\-]{0,127}"
            />
          </label>
          <button type="submit" className="primary" disabled={action.busy || !code}>
            Join
          </button>
          <Note note={action.note} />
        </form>
      ) : (
        <section aria-labelledby="joined-title" className="joined">
          <h2 id="joined-title">
            Welcome, {joined.user}: you are {joined.role} in {joined.team}
          </h2>
          <p>
            In the cmdai app, open the libraries (Ctrl+Shift+L), choose “+ Join a team library” and
            enter:
          </p>
          <dl>
            <dt>Team server</dt>
            <dd>
              <code data-testid="join-server">{joined.server}</code> <Copy text={joined.server} />
            </dd>
            <dt>Your token</dt>
            <dd>
              <code className="token" data-testid="join-token">
                {joined.token}
              </code>{' '}
              <Copy text={joined.token} />
            </dd>
          </dl>
          <p className="muted">
            The token is shown only now and expires{' '}
            {new Date(joined.expiresAt).toLocaleDateString()}. Keep it like a password.
          </p>
        </section>
      )}
    </main>
  )
}
