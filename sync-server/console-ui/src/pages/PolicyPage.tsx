import { useState } from 'react'
import type { PolicyView, TryResult } from '../../../../contract/console'
import type { Policy, PolicyRule } from '../../../../contract/policy'
import { ROLES } from '../../../../contract/sync'
import { get, post } from '../api'
import { Head, Loading, Note, Page, Risk, When } from '../ui/bits'
import { useAction, useLoad } from '../ui/hooks'

const LEVELS = ['strict', 'moderate', 'permissive'] as const
const MATCH_FIELDS = ['command', 'subcommand', 'flag', 'path', 'tag', 'ruleId', 'minRisk'] as const
const EFFECTS: Array<[PolicyRule['effect'], string]> = [
  ['allow', 'allow'],
  ['confirm', 'confirm first'],
  ['block', 'block (an approval can be asked)'],
]

type Draft = { version: 1; level?: Policy['level']; roles?: Policy['roles']; rules: PolicyRule[] }

/**
 * The team policy: a level per role and rules (allow, confirm, block; blocked ones can be run
 * with an approval), edited as a form or as JSON, checked by the server with the app's schema
 * and saved through the sync path so members' apps get it live; a command tried against the
 * draft shows what each role gets.
 */
export function PolicyPage({ canEdit }: { canEdit: boolean }) {
  const current = useLoad(() => get<PolicyView>('/policy'), 'policy')
  return (
    <Page title="Policy">
      {current.data && (
        <p className="muted">
          {current.data.updatedBy ? (
            <>
              Last changed by {current.data.updatedBy}, <When t={current.data.updatedAt} />.
            </>
          ) : (
            'No team policy yet: members’ own settings apply.'
          )}
        </p>
      )}
      {current.data?.error && (
        <p role="alert" className="note error">
          The stored policy does not validate ({current.data.error}); members’ apps block every team
          command until it is fixed.
        </p>
      )}
      <Loading error={current.error} loading={current.loading && !current.data} />
      {current.data && (
        <PolicyEditor
          // Kept across its own saves (the draft is what was saved; notes and tries stay).
          key="editor"
          view={current.data}
          canEdit={canEdit}
          saved={current.reload}
        />
      )}
    </Page>
  )
}

function PolicyEditor({
  view,
  canEdit,
  saved,
}: {
  view: PolicyView
  canEdit: boolean
  saved(): void
}) {
  const [draft, setDraft] = useState<Draft>(() =>
    view.policy ? (JSON.parse(JSON.stringify(view.policy)) as Draft) : { version: 1, rules: [] },
  )
  const [asJson, setAsJson] = useState(false)
  const [json, setJson] = useState(() => JSON.stringify(draft, null, 2))
  const action = useAction()

  const effective = (): unknown => {
    if (!asJson) return draft
    try {
      return JSON.parse(json) as unknown
    } catch {
      return null
    }
  }
  const setRule = (i: number, rule: PolicyRule) =>
    setDraft((d) => ({ ...d, rules: d.rules.map((r, j) => (j === i ? rule : r)) }))

  return (
    <>
      <fieldset className="editor" disabled={!canEdit || action.busy}>
        <legend>{canEdit ? 'Edit the policy' : 'The policy (read-only for your role)'}</legend>
        <label className="switch">
          <input
            type="checkbox"
            checked={asJson}
            onChange={(e) => {
              if (e.target.checked) setJson(JSON.stringify(draft, null, 2))
              else {
                try {
                  setDraft(JSON.parse(json) as Draft)
                } catch {
                  action.setNote({
                    kind: 'error',
                    text: 'The JSON does not parse; fix it before leaving the JSON view.',
                  })
                  return
                }
              }
              setAsJson(e.target.checked)
            }}
          />
          Edit as JSON
        </label>
        {asJson ? (
          <label className="block">
            Policy JSON
            <textarea
              rows={18}
              value={json}
              onChange={(e) => setJson(e.target.value)}
              spellCheck={false}
            />
          </label>
        ) : (
          <LevelsAndRules draft={draft} setDraft={setDraft} setRule={setRule} />
        )}
        {canEdit && (
          <button
            type="button"
            className="primary"
            onClick={() => {
              const policy = effective()
              if (policy === null)
                return action.setNote({ kind: 'error', text: 'The JSON does not parse.' })
              void action
                .run(() => post('/policy', { policy }), 'Saved: members’ apps have the new policy')
                .then((r) => r && saved())
            }}
          >
            Save policy
          </button>
        )}
      </fieldset>
      <Note note={action.note} />
      <TryBox policy={effective} />
    </>
  )
}

function LevelsAndRules({
  draft,
  setDraft,
  setRule,
}: {
  draft: Draft
  setDraft: (fn: (d: Draft) => Draft) => void
  setRule: (i: number, r: PolicyRule) => void
}) {
  return (
    <>
      <div className="levels">
        <label>
          Default level
          <select
            value={draft.level ?? ''}
            onChange={(e) =>
              setDraft((d) => ({ ...d, level: (e.target.value || undefined) as Draft['level'] }))
            }
          >
            <option value="">(app default: moderate)</option>
            {LEVELS.map((l) => (
              <option key={l}>{l}</option>
            ))}
          </select>
        </label>
        {ROLES.map((role) => (
          <label key={role}>
            Level for {role}
            <select
              value={draft.roles?.[role]?.level ?? ''}
              onChange={(e) =>
                setDraft((d) => {
                  const roles = { ...(d.roles ?? {}) }
                  if (e.target.value)
                    roles[role] = { level: e.target.value as (typeof LEVELS)[number] }
                  else delete roles[role]
                  return { ...d, roles }
                })
              }
            >
              <option value="">(default)</option>
              {LEVELS.map((l) => (
                <option key={l}>{l}</option>
              ))}
            </select>
          </label>
        ))}
      </div>
      <ol className="rules" data-testid="rules">
        {draft.rules.map((rule, i) => (
          <li key={i} className="rule">
            <fieldset>
              <legend>Rule {i + 1}</legend>
              <label>
                Id
                <input
                  value={rule.id}
                  onChange={(e) => setRule(i, { ...rule, id: e.target.value })}
                  required
                />
              </label>
              <label>
                Effect
                <select
                  value={rule.effect}
                  onChange={(e) =>
                    setRule(i, { ...rule, effect: e.target.value as PolicyRule['effect'] })
                  }
                >
                  {EFFECTS.map(([v, label]) => (
                    <option key={v} value={v}>
                      {label}
                    </option>
                  ))}
                </select>
              </label>
              {MATCH_FIELDS.map((f) => (
                <label key={f}>
                  {f === 'ruleId' ? 'engine rule' : f === 'minRisk' ? 'at least risk' : f}
                  {f === 'minRisk' ? (
                    <select
                      value={rule.match.minRisk ?? ''}
                      onChange={(e) =>
                        setRule(i, {
                          ...rule,
                          match: clean({
                            ...rule.match,
                            minRisk: (e.target.value ||
                              undefined) as PolicyRule['match']['minRisk'],
                          }),
                        })
                      }
                    >
                      <option value="">(any)</option>
                      {['moderate', 'high', 'critical'].map((r) => (
                        <option key={r}>{r}</option>
                      ))}
                    </select>
                  ) : (
                    <input
                      value={(rule.match as Record<string, string | undefined>)[f] ?? ''}
                      onChange={(e) =>
                        setRule(i, {
                          ...rule,
                          match: clean({ ...rule.match, [f]: e.target.value || undefined }),
                        })
                      }
                    />
                  )}
                </label>
              ))}
              <fieldset className="roles">
                <legend>Applies to</legend>
                {ROLES.map((role) => (
                  <label key={role}>
                    <input
                      type="checkbox"
                      checked={!rule.roles || rule.roles.includes(role)}
                      onChange={(e) => {
                        const now = new Set(rule.roles ?? ROLES)
                        if (e.target.checked) now.add(role)
                        else now.delete(role)
                        const roles = ROLES.filter((r) => now.has(r))
                        setRule(i, {
                          ...rule,
                          roles: roles.length === ROLES.length ? undefined : roles,
                        })
                      }}
                    />
                    {role}
                  </label>
                ))}
              </fieldset>
              <label className="wide">
                Reason shown to members
                <input
                  value={rule.reason ?? ''}
                  onChange={(e) => setRule(i, { ...rule, reason: e.target.value || undefined })}
                />
              </label>
              <button
                type="button"
                onClick={() =>
                  setDraft((d) => ({ ...d, rules: d.rules.filter((_, j) => j !== i) }))
                }
              >
                Remove rule {i + 1}
              </button>
            </fieldset>
          </li>
        ))}
      </ol>
      <button
        type="button"
        onClick={() =>
          setDraft((d) => ({
            ...d,
            rules: [
              ...d.rules,
              { id: `rule-${d.rules.length + 1}`, effect: 'block', match: { tag: 'production' } },
            ],
          }))
        }
      >
        Add a rule
      </button>
    </>
  )
}

function clean<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')) as T
}

function TryBox({ policy }: { policy: () => unknown }) {
  const [command, setCommand] = useState('')
  const [tags, setTags] = useState('')
  const [shell, setShell] = useState('bash')
  const [result, setResult] = useState<TryResult | null>(null)
  const action = useAction()
  return (
    <section className="try" aria-labelledby="try-title">
      <h2 id="try-title">Try a command</h2>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault()
          const p = policy()
          void action
            .run(() =>
              post<TryResult>('/policy/try', {
                command,
                shell,
                tags: tags
                  .split(',')
                  .map((t) => t.trim())
                  .filter(Boolean),
                ...(p !== null ? { policy: p } : {}),
              }),
            )
            .then((r) => r && setResult(r))
        }}
      >
        <label className="grow">
          Command
          <input
            value={command}
            onChange={(e) => setCommand(e.target.value)}
            required
            placeholder="kubectl delete pod web-1 -n prod"
          />
        </label>
        <label>
          Shell
          <select value={shell} onChange={(e) => setShell(e.target.value)}>
            {['bash', 'zsh', 'sh', 'fish', 'powershell'].map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Pattern tags
          <input
            value={tags}
            onChange={(e) => setTags(e.target.value)}
            placeholder="production, k8s"
          />
        </label>
        <button type="submit" disabled={action.busy}>
          Check
        </button>
      </form>
      <Note note={action.note} />
      {result && (
        <div aria-live="polite">
          <p>
            The engine rates it <Risk risk={result.risk} />
            {result.reasons[0] ? `: ${result.reasons[0].message}` : ''}
          </p>
          <table className="grid" data-testid="try-result">
            <caption className="sr-only">What each role gets with this policy</caption>
            <Head cols={['Role', 'Action', 'Rule', 'Why']} />
            <tbody>
              {result.roles.map((r) => (
                <tr key={r.role}>
                  <th scope="row">{r.role}</th>
                  <td>
                    <span className={`action action-${r.action}`}>
                      {r.action === 'approval' ? 'needs approval' : r.action}
                    </span>
                  </td>
                  <td>{r.ruleId}</td>
                  <td>{r.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  )
}
