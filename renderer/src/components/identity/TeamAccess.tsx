import { useCallback, useEffect, useState } from 'react'
import type { TeamIdentity } from '../../../../contract'
import type { Role } from '../../../../contract/sync'
import { errorMessage, type Api } from '../../api/client'
import { timeLeft, useNow } from './use-identity'

const ROLE_ORDER: Role[] = ['readonly', 'junior', 'engineer', 'admin']
const DURATIONS: Array<[string, number]> = [
  ['15 minutes', 15 * 60_000],
  ['30 minutes', 30 * 60_000],
  ['1 hour', 3600_000],
  ['2 hours', 2 * 3600_000],
  ['4 hours', 4 * 3600_000],
  ['8 hours', 8 * 3600_000],
]

/**
 * "Your access", in the library panel: per team, the role the server gives you now, an active
 * elevation with the time it has left (and End now), a request waiting for approval (Withdraw),
 * or a form to ask for a higher role for a while with a reason; Sign out for single sign-on.
 */
export function TeamAccess({ api }: { api: Api }) {
  const [teams, setTeams] = useState<TeamIdentity[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const now = useNow(15_000)
  const reload = useCallback(() => {
    api.call('identity:status', {}).then(
      (r) => setTeams(r.teams),
      (err: unknown) => setError(errorMessage(err)),
    )
  }, [api])
  useEffect(() => {
    reload()
    const t = setInterval(reload, 30_000)
    return () => clearInterval(t)
  }, [reload])
  if (!teams || teams.length === 0) return null
  return (
    <section className="team-access" aria-label="Your access" data-testid="team-access">
      <h3>Your access</h3>
      {error && (
        <p className="palette-notice" role="alert">
          {error}
        </p>
      )}
      {teams.map((t) => (
        <TeamRow key={`${t.server} ${t.team}`} api={api} team={t} now={now} onChanged={reload} />
      ))}
    </section>
  )
}

function TeamRow({
  api,
  team,
  now,
  onChanged,
}: {
  api: Api
  team: TeamIdentity
  now: number
  onChanged(): void
}) {
  const [asking, setAsking] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const act = async (fn: () => Promise<unknown>) => {
    setError(null)
    try {
      await fn()
      setAsking(false)
      onChanged()
    } catch (err) {
      setError(errorMessage(err))
    }
  }
  const v = team.view
  const e = v?.elevation
  return (
    <div className="team-access-row" data-testid={`access-${team.team}`}>
      <p>
        <strong>{team.team}</strong>{' '}
        {v ? (
          <>
            as {v.user}: <strong data-testid="access-role">{v.role}</strong>
            {e?.expiresAt && e.expiresAt > now && (
              <span data-testid="access-elevation">
                {' '}
                (elevated from {v.baseRole}, {timeLeft(e.expiresAt - now)} left)
              </span>
            )}
          </>
        ) : (
          <span className="muted">{team.error}</span>
        )}
      </p>
      {v?.pending && (
        <p className="muted" data-testid="access-pending">
          Asked for {v.pending.role}: waiting for{' '}
          {v.pending.approvalsNeeded - v.pending.approvals.length} approval(s).
        </p>
      )}
      <div className="card-actions">
        {(e ?? v?.pending) && (
          <button
            type="button"
            onClick={() =>
              void act(() =>
                api.call('identity:endElevation', { team: team.team, id: (e ?? v!.pending)!.id }),
              )
            }
          >
            {e ? 'End now' : 'Withdraw'}
          </button>
        )}
        {v && !e && !v.pending && v.baseRole !== 'admin' && !asking && (
          <button type="button" onClick={() => setAsking(true)}>
            Request a higher role…
          </button>
        )}
        {team.sso && (
          <button
            type="button"
            onClick={() => void act(() => api.call('identity:signOut', { team: team.team }))}
          >
            Sign out
          </button>
        )}
      </div>
      {asking && v && (
        <ElevateForm
          base={v.baseRole}
          onCancel={() => setAsking(false)}
          onSubmit={(req) => act(() => api.call('identity:elevate', { team: team.team, ...req }))}
        />
      )}
      {error && (
        <p className="palette-notice" role="alert">
          {error}
        </p>
      )}
    </div>
  )
}

function ElevateForm({
  base,
  onSubmit,
  onCancel,
}: {
  base: Role
  onSubmit(r: { role: Role; durationMs: number; reason: string; production: boolean }): void
  onCancel(): void
}) {
  const higher = ROLE_ORDER.slice(ROLE_ORDER.indexOf(base) + 1)
  const [role, setRole] = useState<Role>(higher[0] ?? 'admin')
  const [durationMs, setDuration] = useState(3600_000)
  const [reason, setReason] = useState('')
  const [production, setProduction] = useState(false)
  return (
    <form
      className="join-form"
      data-testid="elevate-form"
      onSubmit={(ev) => {
        ev.preventDefault()
        onSubmit({ role, durationMs, reason: reason.trim(), production })
      }}
    >
      <label>
        Role
        <select value={role} onChange={(ev) => setRole(ev.target.value as Role)} autoFocus>
          {higher.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </label>
      <label>
        For
        <select value={durationMs} onChange={(ev) => setDuration(Number(ev.target.value))}>
          {DURATIONS.map(([label, ms]) => (
            <option key={ms} value={ms}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Reason <span className="muted">(an incident, a ticket; the approvers see it)</span>
        <input type="text" value={reason} onChange={(ev) => setReason(ev.target.value)} />
      </label>
      <label className="checkbox">
        <input
          type="checkbox"
          checked={production}
          onChange={(ev) => setProduction(ev.target.checked)}
        />{' '}
        Production work (a second person must approve)
      </label>
      <div className="card-actions">
        <button type="submit" className="primary" disabled={reason.trim().length < 3}>
          Request
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  )
}
