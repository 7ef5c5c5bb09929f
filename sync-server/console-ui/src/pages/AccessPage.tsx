import type { SessionsView, TokenView } from '../../../../contract/console'
import { get, post } from '../api'
import { Empty, Head, Loading, Note, Page, When } from '../ui/bits'
import { useAction, useLoad } from '../ui/hooks'

/** Tokens, live sync connections and console sessions; revoking closes what uses them. */
export function AccessPage() {
  const tokens = useLoad(() => get<{ tokens: TokenView[] }>('/tokens'), 'tokens')
  const sessions = useLoad(() => get<SessionsView>('/sessions'), 'sessions')
  const action = useAction()
  const after = () => {
    tokens.reload()
    sessions.reload()
  }
  return (
    <Page
      title="Tokens & sessions"
      actions={
        <button type="button" onClick={after}>
          Refresh
        </button>
      }
    >
      <Note note={action.note} />
      <h2>Open connections</h2>
      <Loading error={sessions.error} loading={sessions.loading && !sessions.data} />
      {sessions.data && sessions.data.connections.length === 0 && (
        <Empty>No app is connected now.</Empty>
      )}
      {sessions.data && sessions.data.connections.length > 0 && (
        <table className="grid" data-testid="connections">
          <caption className="sr-only">Open sync connections</caption>
          <Head cols={['Member', 'Document', 'Address', 'Since', 'Access', '']} />
          <tbody>
            {sessions.data.connections.map((c) => (
              <tr key={c.id}>
                <th scope="row">{c.user}</th>
                <td>{c.room}</td>
                <td>{c.ip}</td>
                <td>
                  <When t={c.openedAt} />
                </td>
                <td>{c.readOnly ? 'read-only' : 'read-write'}</td>
                <td>
                  <button
                    type="button"
                    className="danger"
                    onClick={() =>
                      void action
                        .run(
                          () => post('/sessions/end', { connection: c.id }),
                          `${c.user}'s token revoked: its connections close`,
                        )
                        .then(after)
                    }
                  >
                    Revoke its token
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Console sessions</h2>
      {sessions.data && (
        <table className="grid">
          <caption className="sr-only">Console sessions</caption>
          <Head cols={['Member', 'Address', 'Signed in', 'Expires', '']} />
          <tbody>
            {sessions.data.console.map((s) => (
              <tr key={s.id}>
                <th scope="row">
                  {s.user}
                  {s.current ? ' (this session)' : ''}
                </th>
                <td>{s.ip}</td>
                <td>
                  <When t={s.createdAt} />
                </td>
                <td>
                  <When t={s.expiresAt} />
                </td>
                <td>
                  {!s.current && (
                    <button
                      type="button"
                      onClick={() =>
                        void action
                          .run(
                            () => post('/sessions/end', { consoleSession: s.id }),
                            'Session ended',
                          )
                          .then(after)
                      }
                    >
                      End session
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Tokens</h2>
      <Loading error={tokens.error} loading={tokens.loading && !tokens.data} />
      {tokens.data && (
        <table className="grid" data-testid="tokens">
          <caption className="sr-only">
            Access tokens (the tokens themselves are never stored)
          </caption>
          <Head
            cols={['Member', 'Role', 'Label', 'Created', 'Expires', 'Status', 'Connections', '']}
          />
          <tbody>
            {tokens.data.tokens.map((t) => (
              <tr key={t.jti}>
                <th scope="row">{t.user}</th>
                <td>{t.role}</td>
                <td>{t.label ?? <span className="muted">—</span>}</td>
                <td>
                  <When t={t.createdAt} />
                </td>
                <td>
                  <When t={t.expiresAt} />
                </td>
                <td>{t.status}</td>
                <td>{t.connections}</td>
                <td>
                  {t.status === 'active' && (
                    <button
                      type="button"
                      className="danger"
                      onClick={() =>
                        void action
                          .run(() => post('/tokens/revoke', { jti: t.jti }), 'Token revoked')
                          .then(after)
                      }
                    >
                      Revoke
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
