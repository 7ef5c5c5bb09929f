import { useState } from 'react'
import type { ConsoleSession } from '../../../../contract/console'
import type { Elevation, ElevationRule, MappingRule } from '../../../../contract/identity'
import { ROLES, type Role } from '../../../../contract/sync'
import { get, post } from '../api'
import { Empty, Loading, Note, Page, When } from '../ui/bits'
import { useAction, useLoad } from '../ui/hooks'
import './identity.css'

/**
 * Sign-in and elevation: who may sign in with the identity provider and with which role (the
 * claim-to-role mapping), the elevations in force and waiting (approve, deny, end), the team's
 * elevation rules, and a member's own request for a higher role.
 */
export function IdentityPage({ session }: { session: ConsoleSession }) {
  const admin = session.role === 'admin'
  const config = useLoad(
    () => get<{ sso: boolean; issuer?: string }>('/identity/config'),
    'identity-config',
  )
  return (
    <Page title="Sign-in & elevation">
      <Loading error={config.error} loading={config.loading && !config.data} />
      <Elevations session={session} />
      {config.data && admin && <MappingSection sso={config.data.sso} issuer={config.data.issuer} />}
      <RulesSection canEdit={admin} />
    </Page>
  )
}

function Elevations({ session }: { session: ConsoleSession }) {
  const list = useLoad(() => get<{ elevations: Elevation[] }>('/identity/elevations'), 'elevations')
  const action = useAction()
  // The server closes what ran its time before it answers: its status is current.
  const open = (list.data?.elevations ?? []).filter(
    (e) => e.status === 'active' || e.status === 'pending',
  )
  const past = (list.data?.elevations ?? []).filter((e) => !open.includes(e)).slice(0, 50)
  const act = (path: string, body: unknown, ok: string) =>
    void action.run(() => post(path, body), ok).then(list.reload)
  return (
    <>
      <h2>Elevations</h2>
      <Note note={action.note} />
      <Loading error={list.error} loading={list.loading && !list.data} />
      {list.data && open.length === 0 && <Empty>No elevation is active or waiting.</Empty>}
      {open.length > 0 && (
        <table className="grid" data-testid="elevations">
          <caption className="sr-only">Active and waiting elevations</caption>
          <thead>
            <tr>
              <th scope="col">Member</th>
              <th scope="col">Role</th>
              <th scope="col">Reason</th>
              <th scope="col">State</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {open.map((e) => (
              <tr key={e.id}>
                <th scope="row">{e.user}</th>
                <td>
                  {e.fromRole} → {e.role}
                  {e.production ? ' (production)' : ''}
                </td>
                <td>{e.reason}</td>
                <td>
                  {e.status === 'active' ? (
                    <>
                      active until <When t={e.expiresAt} />
                    </>
                  ) : (
                    `waiting: ${e.approvals.length} of ${e.approvalsNeeded} approvals`
                  )}
                </td>
                <td className="actions">
                  {e.status === 'pending' &&
                    session.role === 'admin' &&
                    e.user !== session.user &&
                    !e.approvals.some((a) => a.by === session.user) && (
                      <>
                        {(['approve', 'deny'] as const).map((decision) => (
                          <button
                            key={decision}
                            type="button"
                            onClick={() =>
                              act(
                                `/identity/elevations/${e.id}/decision`,
                                { decision },
                                `${decision === 'approve' ? 'Approved' : 'Denied'} ${e.user}`,
                              )
                            }
                          >
                            {decision === 'approve' ? 'Approve' : 'Deny'}
                          </button>
                        ))}
                      </>
                    )}
                  {((e.status === 'active' && session.role === 'admin') ||
                    e.user === session.user) && (
                    <button
                      type="button"
                      className="danger"
                      onClick={() =>
                        act(`/identity/elevations/${e.id}/end`, {}, `Ended ${e.user}'s elevation`)
                      }
                    >
                      {e.status === 'active' ? 'End now' : 'Withdraw'}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {session.role !== 'admin' && (
        <RequestForm base={session.role} done={list.reload} onNote={action.setNote} />
      )}
      {past.length > 0 && (
        <details>
          <summary>Earlier elevations ({past.length})</summary>
          <ul className="plain">
            {past.map((e) => (
              <li key={e.id}>
                {e.user}: {e.fromRole} → {e.role}, {e.status}
                {e.closedBy ? ` by ${e.closedBy}` : ''} (<When t={e.closedAt ?? e.requestedAt} />)
              </li>
            ))}
          </ul>
        </details>
      )}
    </>
  )
}

function RequestForm({
  base,
  done,
  onNote,
}: {
  base: Role
  done(): void
  onNote(n: { kind: 'ok' | 'error'; text: string } | null): void
}) {
  const order: Role[] = ['readonly', 'junior', 'engineer', 'admin']
  const higher = order.slice(order.indexOf(base) + 1)
  const [role, setRole] = useState<Role>(higher[0] ?? 'admin')
  const [minutes, setMinutes] = useState(60)
  const [reason, setReason] = useState('')
  const [production, setProduction] = useState(false)
  const action = useAction()
  return (
    <form
      className="stack-form"
      onSubmit={(ev) => {
        ev.preventDefault()
        void action
          .run(
            () =>
              post<Elevation>('/identity/elevations', {
                role,
                durationMs: minutes * 60_000,
                reason,
                production,
              }),
            'Requested',
          )
          .then((e) => {
            if (e) onNote({ kind: 'ok', text: `Asked for ${e.role}: ${e.status}` })
            done()
          })
      }}
    >
      <fieldset disabled={action.busy}>
        <legend>Ask for a higher role</legend>
        <Note note={action.note} />
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {higher.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <label>
          Minutes
          <input
            type="number"
            min={1}
            max={1440}
            value={minutes}
            onChange={(e) => setMinutes(Number(e.target.value))}
          />
        </label>
        <label>
          Reason
          <input type="text" value={reason} onChange={(e) => setReason(e.target.value)} />
        </label>
        <label className="inline">
          <input
            type="checkbox"
            checked={production}
            onChange={(e) => setProduction(e.target.checked)}
          />{' '}
          Production work (a second person approves)
        </label>
        <button type="submit" disabled={reason.trim().length < 3}>
          Request
        </button>
      </fieldset>
    </form>
  )
}

function MappingSection({ sso, issuer }: { sso: boolean; issuer?: string }) {
  const mapping = useLoad(
    () =>
      sso ? get<{ rules: MappingRule[] }>('/identity/mapping') : Promise.resolve({ rules: [] }),
    'mapping',
  )
  return (
    <>
      <h2>Single sign-on</h2>
      {!sso ? (
        <p className="muted">
          This server does not sign in with an identity provider. Start it with{' '}
          <code>--oidc-issuer URL --oidc-client-id ID</code> (see the README).
        </p>
      ) : (
        <>
          <p>
            Members sign in with <code>{issuer}</code>. Their role in this team follows these rules
            (the highest that matches); a member no rule matches loses access at their next token
            refresh.
          </p>
          <Loading error={mapping.error} loading={mapping.loading && !mapping.data} />
          {mapping.data && <MappingEditor initial={mapping.data.rules} saved={mapping.reload} />}
        </>
      )}
    </>
  )
}

const MATCHES: Array<[MappingRule['match'], string]> = [
  ['group', 'is in group'],
  ['emailDomain', 'has a verified email at'],
  ['email', 'has the verified email'],
  ['claim', 'has the claim'],
]

function MappingEditor({ initial, saved }: { initial: MappingRule[]; saved(): void }) {
  const [rules, setRules] = useState<MappingRule[]>(initial)
  const action = useAction()
  const set = (i: number, patch: Partial<MappingRule>) =>
    setRules((r) =>
      r.map((x, j) => {
        if (j !== i) return x
        const next = { ...x, ...patch }
        if (next.match !== 'claim') delete next.claim
        else next.claim ??= ''
        return next
      }),
    )
  return (
    <form
      className="stack-form"
      data-testid="mapping-editor"
      onSubmit={(e) => {
        e.preventDefault()
        void action.run(() => post('/identity/mapping', { rules }), 'Mapping saved').then(saved)
      }}
    >
      <Note note={action.note} />
      <table className="grid">
        <caption className="sr-only">Claim-to-role rules</caption>
        <thead>
          <tr>
            <th scope="col">A member who…</th>
            <th scope="col">Claim</th>
            <th scope="col">Value</th>
            <th scope="col">gets the role</th>
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rules.map((r, i) => (
            <tr key={i}>
              <td>
                <select
                  aria-label={`Rule ${i + 1}: match`}
                  value={r.match}
                  onChange={(e) => set(i, { match: e.target.value as MappingRule['match'] })}
                >
                  {MATCHES.map(([m, label]) => (
                    <option key={m} value={m}>
                      {label}
                    </option>
                  ))}
                </select>
              </td>
              <td>
                {r.match === 'claim' ? (
                  <input
                    aria-label={`Rule ${i + 1}: claim name`}
                    value={r.claim ?? ''}
                    onChange={(e) => set(i, { claim: e.target.value })}
                  />
                ) : (
                  <span className="muted">—</span>
                )}
              </td>
              <td>
                <input
                  aria-label={`Rule ${i + 1}: value`}
                  value={r.value}
                  onChange={(e) => set(i, { value: e.target.value })}
                />
              </td>
              <td>
                <select
                  aria-label={`Rule ${i + 1}: role`}
                  value={r.role}
                  onChange={(e) => set(i, { role: e.target.value as Role })}
                >
                  {ROLES.map((role) => (
                    <option key={role}>{role}</option>
                  ))}
                </select>
              </td>
              <td>
                <button
                  type="button"
                  aria-label={`Remove rule ${i + 1}`}
                  onClick={() => setRules((x) => x.filter((_, j) => j !== i))}
                >
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="row">
        <button
          type="button"
          onClick={() => setRules((x) => [...x, { match: 'group', value: '', role: 'readonly' }])}
        >
          Add a rule
        </button>
        <button type="submit" disabled={action.busy}>
          Save mapping
        </button>
      </div>
    </form>
  )
}

function RulesSection({ canEdit }: { canEdit: boolean }) {
  const policy = useLoad(
    () => get<{ rules: ElevationRule[] }>('/identity/elevation-policy'),
    'elevation-policy',
  )
  return (
    <>
      <h2>Elevation rules</h2>
      <p className="muted">
        Without a rule, an elevation needs one admin’s approval and lasts at most 8 hours. A rule
        with 0 approvals grants at once (say, engineers to admin for 30 minutes during an incident);
        production requests always need a second person.
      </p>
      <Loading error={policy.error} loading={policy.loading && !policy.data} />
      {policy.data && (
        <RulesEditor initial={policy.data.rules} canEdit={canEdit} saved={policy.reload} />
      )}
    </>
  )
}

function RulesEditor({
  initial,
  canEdit,
  saved,
}: {
  initial: ElevationRule[]
  canEdit: boolean
  saved(): void
}) {
  const [rules, setRules] = useState<ElevationRule[]>(initial)
  const action = useAction()
  const set = (i: number, patch: Partial<ElevationRule>) =>
    setRules((r) => r.map((x, j) => (j === i ? { ...x, ...patch } : x)))
  const num = (v: string) => Math.max(0, Math.floor(Number(v) || 0))
  return (
    <form
      className="stack-form"
      data-testid="elevation-rules"
      onSubmit={(e) => {
        e.preventDefault()
        void action
          .run(() => post('/identity/elevation-policy', { rules }), 'Rules saved')
          .then(saved)
      }}
    >
      <Note note={action.note} />
      <fieldset disabled={!canEdit || action.busy}>
        <legend className="sr-only">Elevation rules</legend>
        {rules.length === 0 && <Empty>No rules: every elevation needs an admin’s approval.</Empty>}
        {rules.map((r, i) => (
          <div className="row" key={i}>
            <label>
              From
              <select value={r.from} onChange={(e) => set(i, { from: e.target.value as Role })}>
                {ROLES.map((x) => (
                  <option key={x}>{x}</option>
                ))}
              </select>
            </label>
            <label>
              To
              <select value={r.to} onChange={(e) => set(i, { to: e.target.value as Role })}>
                {ROLES.map((x) => (
                  <option key={x}>{x}</option>
                ))}
              </select>
            </label>
            <label>
              At most (minutes)
              <input
                type="number"
                min={1}
                max={1440}
                value={r.maxMinutes}
                onChange={(e) => set(i, { maxMinutes: num(e.target.value) })}
              />
            </label>
            <label>
              Approvals
              <input
                type="number"
                min={0}
                max={2}
                value={r.approvals}
                onChange={(e) => set(i, { approvals: num(e.target.value) })}
              />
            </label>
            <label>
              For production
              <input
                type="number"
                min={1}
                max={2}
                value={r.productionApprovals}
                onChange={(e) => set(i, { productionApprovals: num(e.target.value) })}
              />
            </label>
            <label>
              Note
              <input value={r.note} onChange={(e) => set(i, { note: e.target.value })} />
            </label>
            <button
              type="button"
              aria-label={`Remove elevation rule ${i + 1}`}
              onClick={() => setRules((x) => x.filter((_, j) => j !== i))}
            >
              Remove
            </button>
          </div>
        ))}
        <div className="row">
          <button
            type="button"
            onClick={() =>
              setRules((x) => [
                ...x,
                {
                  from: 'engineer',
                  to: 'admin',
                  maxMinutes: 30,
                  approvals: 1,
                  productionApprovals: 1,
                  note: '',
                },
              ])
            }
          >
            Add a rule
          </button>
          <button type="submit">Save rules</button>
        </div>
      </fieldset>
    </form>
  )
}
