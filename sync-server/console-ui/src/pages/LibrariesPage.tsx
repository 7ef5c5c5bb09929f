import type { LibraryDetail, LibrarySummary } from '../../../../contract/console'
import { get } from '../api'
import { Empty, Head, Loading, Page, Risk, When } from '../ui/bits'
import { useLoad } from '../ui/hooks'

/** The team's libraries, and each pattern read-only with the verdict on its template. */
export function LibrariesPage({ name }: { name: string | null }) {
  if (name) return <LibraryView name={name} />
  return <LibraryList />
}

function LibraryList() {
  const list = useLoad(() => get<{ libraries: LibrarySummary[] }>('/libraries'), 'libraries')
  return (
    <Page title="Libraries">
      <Loading error={list.error} loading={list.loading && !list.data} />
      {list.data && list.data.libraries.length === 0 && (
        <Empty>No team library has been written yet. Members create them from the app.</Empty>
      )}
      {list.data && list.data.libraries.length > 0 && (
        <table className="grid" data-testid="libraries">
          <caption className="sr-only">Team libraries</caption>
          <Head cols={['Library', 'Patterns', 'By verdict', 'Last change', 'By']} />
          <tbody>
            {list.data.libraries.map((l) => (
              <tr key={l.name}>
                <th scope="row">
                  <a href={`#/libraries/${encodeURIComponent(l.name)}`}>{l.name}</a>
                </th>
                <td>
                  {l.patterns}
                  {l.invalid ? ` (+${l.invalid} unreadable)` : ''}
                </td>
                <td className="chips">
                  {(['safe', 'moderate', 'high', 'critical'] as const)
                    .filter((r) => l.risks[r] > 0)
                    .map((r) => (
                      <span key={r}>
                        <Risk risk={r} /> {l.risks[r]}
                      </span>
                    ))}
                </td>
                <td>
                  <When t={l.lastChangedAt} />
                </td>
                <td>{l.lastChangedBy ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Page>
  )
}

function LibraryView({ name }: { name: string }) {
  const lib = useLoad(() => get<LibraryDetail>(`/libraries/${encodeURIComponent(name)}`), name)
  return (
    <Page title={`Library ${name}`} actions={<a href="#/libraries">All libraries</a>}>
      <Loading error={lib.error} loading={lib.loading && !lib.data} />
      {lib.data && (
        <ul className="patterns" data-testid="patterns">
          {lib.data.patterns.map((p) => (
            <li key={p.id} className="pattern">
              <h2>
                {p.title} <Risk risk={p.risk} />
              </h2>
              {p.description && <p>{p.description}</p>}
              <pre>
                <code>{p.command}</code>
              </pre>
              {p.reasons.length > 0 && (
                <ul className="reasons">
                  {p.reasons.map((r, i) => (
                    <li key={i}>{r}</li>
                  ))}
                </ul>
              )}
              <p className="muted small">
                {p.parameters.length > 0 && <>Parameters: {p.parameters.join(', ')} · </>}
                {p.tags.length > 0 && <>Tags: {p.tags.join(', ')} · </>}
                by {p.author}, changed <When t={p.updatedAt} /> by {p.updatedBy ?? p.author}
              </p>
            </li>
          ))}
          {lib.data.invalid.map((x) => (
            <li key={x.id} className="pattern invalid">
              <h2>{x.id} (unreadable)</h2>
              <p>{x.error}</p>
            </li>
          ))}
        </ul>
      )}
    </Page>
  )
}
