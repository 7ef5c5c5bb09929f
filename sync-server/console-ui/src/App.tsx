import { lazy, Suspense, useEffect, useState } from 'react'
import { CONSOLE_ACCESS, type ConsoleArea, type ConsoleSession } from '../../../contract/console'
import { roleAtLeast } from '../../../contract/sync'
import { ApiError, get, onSignedOut, post, setCsrf } from './api'
import { ApprovalsPage } from './pages/ApprovalsPage'
import { AuditPage } from './pages/AuditPage'
import { JoinPage } from './pages/JoinPage'
import { LibrariesPage } from './pages/LibrariesPage'
import { MembersPage } from './pages/MembersPage'
import { PolicyPage } from './pages/PolicyPage'
import { SettingsPage } from './pages/SettingsPage'
import { AccessPage } from './pages/AccessPage'
import { WebhooksPage } from './pages/WebhooksPage'
import { IdentityPage } from './pages/IdentityPage'
import { SsoSignIn } from './pages/SsoSignIn'
import { useHashPath } from './route'
import { useTheme } from './ui/theme'

// The charts library is most of the code: loaded when Analytics opens, not on the first page.
const AnalyticsPage = lazy(() =>
  import('./pages/AnalyticsPage').then((m) => ({ default: m.AnalyticsPage })),
)

// Asked for while React starts (the first page needs it before anything else).
const firstSession = location.hash.startsWith('#/join') ? null : get<ConsoleSession>('/session')
firstSession?.catch(() => {}) // a 401 is handled below, when the app has mounted

interface NavItem {
  id: string
  label: string
  area: ConsoleArea
}

const NAV: NavItem[] = [
  { id: 'members', label: 'Members', area: 'members' },
  { id: 'access', label: 'Tokens & sessions', area: 'tokens' },
  { id: 'libraries', label: 'Libraries', area: 'libraries' },
  { id: 'policy', label: 'Policy', area: 'policyView' },
  { id: 'approvals', label: 'Approvals', area: 'approvals' },
  { id: 'audit', label: 'Audit log', area: 'audit' },
  { id: 'analytics', label: 'Analytics', area: 'analytics' },
  { id: 'webhooks', label: 'Webhooks', area: 'webhooks' },
  { id: 'settings', label: 'Settings', area: 'settingsView' },
  { id: 'identity', label: 'Sign-in & elevation', area: 'session' },
]

export function App() {
  const path = useHashPath()
  const theme = useTheme()
  const [session, setSession] = useState<ConsoleSession | null | 'out'>(null)

  const joining = path[0] === 'join'
  useEffect(() => {
    if (joining) return
    let live = true
    ;(firstSession ?? get<ConsoleSession>('/session')).then(
      (s) => {
        setCsrf(s.csrf)
        if (live) setSession(s)
      },
      (err: unknown) =>
        live && setSession(err instanceof ApiError && err.status === 401 ? 'out' : null),
    )
    return () => {
      live = false
    }
  }, [joining])
  useEffect(() => onSignedOut(() => setSession('out')), [])

  if (path[0] === 'join') return <JoinPage code={path[1] ?? ''} theme={theme} />
  if (session === 'out') return <SignedOut />
  if (session === null)
    return (
      <main className="center">
        <p className="muted">Loading the console…</p>
      </main>
    )

  const allowed = NAV.filter((n) => roleAtLeast(session.role, CONSOLE_ACCESS[n.area]))
  const current = allowed.find((n) => n.id === path[0]) ?? allowed[0]!

  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">cmdai · team {session.team}</span>
        <span className="who">
          {session.user} <span className={`role role-${session.role}`}>{session.role}</span>
        </span>
        <button type="button" onClick={theme.toggle} aria-label={`Switch to ${theme.next} theme`}>
          {theme.next === 'dark' ? 'Dark' : 'Light'} theme
        </button>
        <button
          type="button"
          onClick={() => void post('/signout').finally(() => setSession('out'))}
        >
          Sign out
        </button>
      </header>
      <nav className="side" aria-label="Console sections">
        <ul>
          {allowed.map((n) => (
            <li key={n.id}>
              <a href={`#/${n.id}`} aria-current={n.id === current.id ? 'page' : undefined}>
                {n.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        <Current id={current.id} session={session} sub={path.slice(1)} theme={theme.theme} />
      </main>
    </div>
  )
}

function Current({
  id,
  session,
  sub,
  theme,
}: {
  id: string
  session: ConsoleSession
  sub: string[]
  theme: 'light' | 'dark'
}) {
  const can = (area: ConsoleArea) => roleAtLeast(session.role, CONSOLE_ACCESS[area])
  switch (id) {
    case 'members':
      return <MembersPage session={session} />
    case 'access':
      return <AccessPage />
    case 'libraries':
      return <LibrariesPage name={sub[0] ?? null} />
    case 'policy':
      return <PolicyPage canEdit={can('policyEdit')} />
    case 'approvals':
      return <ApprovalsPage session={session} focus={sub[0] ?? null} />
    case 'audit':
      return <AuditPage />
    case 'analytics':
      return (
        <Suspense fallback={<p className="muted">Loading charts…</p>}>
          <AnalyticsPage theme={theme} />
        </Suspense>
      )
    case 'webhooks':
      return <WebhooksPage />
    case 'identity':
      return <IdentityPage session={session} />
    default:
      return <SettingsPage canEdit={can('settingsEdit')} />
  }
}

function SignedOut() {
  return (
    <main className="center signed-out">
      <h1>cmdai team console</h1>
      <p>You are not signed in (or your session ended).</p>
      <SsoSignIn />
      <p>
        Or ask for a one-time sign-in link on the server (with single sign-on on, the break-glass
        way in, audited as such):
      </p>
      <pre>
        <code>cmdai-sync admin-url --data DIR --team TEAM --user YOU</code>
      </pre>
      <p className="muted">The link works once, for ten minutes.</p>
    </main>
  )
}
