import { useEffect, useRef, useState } from 'react'
import type { Approval, PatternRunResult, ShellDialect, TemplateCheck } from '../../../../contract'
import type { Pattern } from '../../../../contract/sync'
import { errorMessage, type Api } from '../../api/client'
import { CommandView } from '../palette/CommandView'
import { VerdictBadge } from '../palette/VerdictBadge'

interface Props {
  api: Api
  library: string
  pattern: Pattern
  shell: ShellDialect
  ptyId: string | null
  /** The user's own approvals, live (to run an approved command). */
  approvals: Approval[]
  onRan(result: PatternRunResult): void
  onCancel(): void
}

/**
 * Fill in a pattern's parameters (keyboard first: Tab between fields, Enter runs), see the final
 * command quoted for the terminal's shell with its verdict and the rule that applied, then run
 * it, confirm it, or ask the team for an approval.
 */
export function ParameterForm({
  api,
  library,
  pattern,
  shell,
  ptyId,
  approvals,
  onRan,
  onCancel,
}: Props) {
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(pattern.parameters.map((p) => [p.name, p.default ?? ''])),
  )
  const [check, setCheck] = useState<TemplateCheck | null>(null)
  const [notice, setNotice] = useState<string | null>(null)
  const [confirming, setConfirming] = useState(false)
  const [asking, setAsking] = useState(false)
  const [reason, setReason] = useState('')
  const [asked, setRequested] = useState<Approval | null>(null)
  const [choices, setChoices] = useState<Record<string, string[]>>({})
  const [approvalNeeded, setApprovalNeeded] = useState<Record<string, string>>({})
  const firstRef = useRef<HTMLInputElement & HTMLSelectElement>(null)
  const seq = useRef(0)

  useEffect(() => firstRef.current?.focus(), [])

  // The requester hears the decision live (approvals arrive as events).
  const requested = asked ? (approvals.find((a) => a.id === asked.id) ?? asked) : null
  const requestedStatus = requested?.status

  // The verdict always belongs to the values shown now (and to the approvals known now).
  useEffect(() => {
    const id = ++seq.current
    const timer = setTimeout(() => {
      api
        .call('library:check', { library, id: pattern.id, values, shell })
        .then((c) => id === seq.current && setCheck(c))
        .catch((err: unknown) => id === seq.current && setNotice(errorMessage(err)))
    }, 80)
    return () => clearTimeout(timer)
  }, [api, library, pattern.id, values, shell, requestedStatus])

  // Choices produced by a command the user approves once.
  const loadValues = (name: string, approve: boolean) =>
    api.call('library:values', { library, id: pattern.id, parameter: name, approve }).then(
      (r) => {
        if (!r.approved) return setApprovalNeeded((m) => ({ ...m, [name]: r.command }))
        setApprovalNeeded(({ [name]: _, ...rest }) => rest)
        if (r.error) setNotice(`{{${name}}}: ${r.error}`)
        setChoices((c) => ({ ...c, [name]: r.values }))
      },
      (err: unknown) => setNotice(errorMessage(err)),
    )
  useEffect(() => {
    for (const p of pattern.parameters) if (p.valuesFrom) void loadValues(p.name, false)
    // Once per pattern.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [pattern.id])

  const covering =
    check?.command && requested?.status === 'approved'
      ? requested
      : approvals.find((a) => a.status === 'approved' && a.id === check?.decision?.approvalId)

  const run = async (confirmed: boolean) => {
    setNotice(null)
    if (!ptyId) return setNotice('No terminal is open to run it in.')
    try {
      const r = await api.call('library:run', {
        library,
        id: pattern.id,
        values,
        shell,
        ptyId,
        confirmed,
      })
      if (r.outcome === 'needs-confirmation') return setConfirming(true)
      if (r.outcome === 'needs-approval') return setAsking(true)
      if (r.outcome === 'blocked') return setNotice(r.decision.reason)
      onRan(r)
    } catch (err) {
      setNotice(errorMessage(err))
    }
  }

  const ask = async () => {
    if (!check?.command || !reason.trim()) return
    try {
      const a = await api.call('approval:request', {
        library,
        id: pattern.id,
        command: check.command,
        shell,
        reason: reason.trim(),
      })
      setRequested(a)
      setAsking(false)
    } catch (err) {
      setNotice(errorMessage(err))
    }
  }

  const onKeyDown = (e: React.KeyboardEvent) => {
    if (e.key === 'Enter' && !(e.target instanceof HTMLTextAreaElement) && !asking) {
      e.preventDefault()
      void run(confirming)
    } else if (e.key === 'Escape') {
      e.preventDefault()
      e.stopPropagation()
      if (confirming) setConfirming(false)
      else if (asking) setAsking(false)
      else onCancel()
    }
  }

  const decision = check?.decision
  const verdict = check?.verdict ?? null
  return (
    <form
      className="param-form"
      data-testid="param-form"
      onKeyDown={onKeyDown}
      onSubmit={(e) => {
        e.preventDefault()
        void run(confirming)
      }}
    >
      <h3>{pattern.title}</h3>
      {pattern.description && <p className="muted">{pattern.description}</p>}
      {pattern.parameters.length === 0 && <p className="muted">No parameters.</p>}
      {pattern.parameters.map((p, i) => {
        const id = `param-${p.name}`
        const error = check?.errors[p.name]
        const options = p.allowed ?? choices[p.name]
        return (
          <div className="param-field" key={p.name}>
            <label htmlFor={id}>
              <code>{p.name}</code>{' '}
              {p.description && <span className="muted">{p.description}</span>}
            </label>
            {p.allowed ? (
              <select
                id={id}
                ref={i === 0 ? firstRef : undefined}
                value={values[p.name] ?? ''}
                onChange={(e) => setValues((v) => ({ ...v, [p.name]: e.target.value }))}
              >
                {p.allowed.map((a) => (
                  <option key={a} value={a}>
                    {a}
                  </option>
                ))}
              </select>
            ) : (
              <input
                id={id}
                type="text"
                ref={i === 0 ? firstRef : undefined}
                value={values[p.name] ?? ''}
                list={options ? `${id}-choices` : undefined}
                spellCheck={false}
                autoComplete="off"
                aria-invalid={error ? true : undefined}
                aria-describedby={error ? `${id}-error` : undefined}
                onChange={(e) => {
                  setConfirming(false)
                  setValues((v) => ({ ...v, [p.name]: e.target.value }))
                }}
              />
            )}
            {!p.allowed && options && (
              <datalist id={`${id}-choices`}>
                {options.map((o) => (
                  <option key={o} value={o} />
                ))}
              </datalist>
            )}
            {approvalNeeded[p.name] && (
              <p className="param-values">
                Choices come from <code>{approvalNeeded[p.name]}</code>.{' '}
                <button type="button" onClick={() => void loadValues(p.name, true)}>
                  Run it to list them
                </button>
              </p>
            )}
            {error && (
              <p className="param-error" id={`${id}-error`} role="alert">
                {error}
              </p>
            )}
          </div>
        )
      })}
      <div className={`param-final card-risk-${verdict?.risk ?? check?.template.risk ?? 'safe'}`}>
        <div className="card-head">
          <span className="muted">Will run in {shell}</span>
          <span className="card-verdict" aria-live="polite">
            {verdict ? (
              <VerdictBadge risk={verdict.risk} />
            ) : (
              <span className="muted">fill in the values</span>
            )}
          </span>
        </div>
        <div className="card-command" data-testid="param-command">
          {check?.command ? (
            <CommandView command={check.command} reasons={verdict?.reasons ?? []} />
          ) : (
            <span className="muted">{pattern.command}</span>
          )}
        </div>
        {verdict && verdict.reasons.length > 0 && (
          <ul className="card-reasons" aria-label="Why this rating">
            {verdict.reasons.slice(0, 4).map((r, i) => (
              <li key={i}>
                <VerdictBadge risk={r.risk} /> {r.message}{' '}
                <span className="reason-rule">{r.ruleId}</span>
              </li>
            ))}
          </ul>
        )}
        {decision && (
          <p className={`card-policy decision-${decision.action}`} data-testid="param-decision">
            {decision.reason}
          </p>
        )}
      </div>
      {confirming && (
        <p className="card-confirm" role="alert">
          This is {verdict?.risk} risk. Press Enter again to run it, Esc to go back.
        </p>
      )}
      {asking && (
        <div className="approval-ask" data-testid="approval-ask">
          <label htmlFor="approval-reason">
            Why does this need to run? Your team&apos;s approvers will see it.
          </label>
          <textarea
            id="approval-reason"
            autoFocus
            rows={2}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && !e.shiftKey) {
                e.preventDefault()
                void ask()
              }
            }}
          />
          <button
            type="button"
            className="primary"
            disabled={!reason.trim()}
            onClick={() => void ask()}
          >
            Request approval
          </button>
        </div>
      )}
      {requested && (
        <p
          className={`approval-state approval-${requested.status}`}
          role="status"
          data-testid="approval-state"
        >
          {requested.status === 'pending'
            ? 'Approval requested: waiting for an approver…'
            : requested.status === 'approved'
              ? `Approved by ${requested.decidedBy ?? '?'}${requested.comment ? `: ${requested.comment}` : ''}. Press Enter to run exactly this command.`
              : requested.status === 'denied'
                ? `Denied by ${requested.decidedBy ?? '?'}${requested.comment ? `: ${requested.comment}` : ''}.`
                : 'The request expired.'}
        </p>
      )}
      {covering && !requested && (
        <p className="approval-state approval-approved">
          Covered by an approval from {covering.decidedBy}.
        </p>
      )}
      {notice && (
        <p className="palette-notice" role="alert">
          {notice}
        </p>
      )}
      <div className="card-actions">
        <button
          type="submit"
          className="primary"
          disabled={!check?.command || decision?.action === 'block'}
        >
          {confirming ? 'Run anyway' : decision?.action === 'approval' ? 'Ask for approval' : 'Run'}
        </button>
        <button type="button" onClick={onCancel}>
          Back
        </button>
      </div>
    </form>
  )
}
