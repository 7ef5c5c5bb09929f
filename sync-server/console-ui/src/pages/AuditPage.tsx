import { useState } from 'react'
import type { AuditPage as Page_, AuditVerifyView } from '../../../../contract/console'
import { AUDIT_KINDS, type AuditRecord } from '../../../../contract/sync'
import { API, get, post, query } from '../api'
import { Empty, Head, Loading, Note, Page, When } from '../ui/bits'
import { useAction, useLoad } from '../ui/hooks'

interface Filters {
  actor: string
  kind: string
  library: string
  since: string
  until: string
  q: string
}
const EMPTY: Filters = { actor: '', kind: '', library: '', since: '', until: '', q: '' }
const FORMATS: Array<[string, string]> = [
  ['jsonl', 'JSON lines'],
  ['csv', 'CSV'],
  ['syslog', 'Syslog (RFC 5424)'],
  ['cef', 'CEF (ArcSight)'],
]

const toMs = (date: string, end = false) =>
  date ? Date.parse(date) + (end ? 86_400_000 : 0) : undefined

/** Browse and filter the team's audit records, verify the chain, export it for a SIEM. */
export function AuditPage() {
  const [form, setForm] = useState<Filters>(EMPTY)
  const [applied, setApplied] = useState<Filters>(EMPTY)
  const [pages, setPages] = useState<AuditRecord[][]>([])
  const [next, setNext] = useState<number | null>(null)
  const params = {
    actor: applied.actor,
    kind: applied.kind,
    library: applied.library,
    since: toMs(applied.since),
    until: toMs(applied.until, true),
    q: applied.q,
  }
  const first = useLoad(async () => {
    const r = await get<Page_>(`/audit${query({ ...params, limit: 100 })}`)
    setPages([r.records])
    setNext(r.next)
    return r
  }, JSON.stringify(applied))
  const more = useAction()
  const verify = useAction()
  const [verified, setVerified] = useState<AuditVerifyView | null>(null)
  const records = pages.flat()

  return (
    <Page title="Audit log">
      <section className="verify" aria-labelledby="verify-title">
        <h2 id="verify-title">Integrity</h2>
        <button
          type="button"
          disabled={verify.busy}
          onClick={() =>
            void verify
              .run(() => post<AuditVerifyView>('/audit/verify'))
              .then((v) => v && setVerified(v))
          }
        >
          {verify.busy ? 'Verifying…' : 'Verify the chain'}
        </button>
        <Note note={verify.note} />
        {verified && (
          <p role="status" data-testid="verify-result" className={verified.ok ? 'ok' : 'bad'}>
            {verified.ok
              ? `Intact: ${verified.records} records (seq ${verified.firstSeq ?? 0}–${verified.headSeq ?? 0}), ${verified.checkpointsChecked} signed checkpoint${verified.checkpointsChecked === 1 ? '' : 's'} matched`
              : `TAMPERED at ${verified.problem?.seq !== undefined ? `record ${verified.problem.seq}` : 'the log'} (${verified.problem?.where}): ${verified.problem?.reason}`}
            {verified.checkpoint && (
              <>
                {' '}
                · newest checkpoint: seq {verified.checkpoint.seq}, signed{' '}
                {new Date(verified.checkpoint.ts).toLocaleString()} (key{' '}
                {verified.checkpoint.kid.slice(0, 10)}…)
              </>
            )}{' '}
            · took {verified.tookMs} ms
          </p>
        )}
      </section>
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault()
          setApplied(form)
        }}
      >
        <label>
          Actor
          <input value={form.actor} onChange={(e) => setForm({ ...form, actor: e.target.value })} />
        </label>
        <label>
          Kind
          <select value={form.kind} onChange={(e) => setForm({ ...form, kind: e.target.value })}>
            <option value="">(any)</option>
            {AUDIT_KINDS.map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
        </label>
        <label>
          Library
          <input
            value={form.library}
            onChange={(e) => setForm({ ...form, library: e.target.value })}
          />
        </label>
        <label>
          From
          <input
            type="date"
            value={form.since}
            onChange={(e) => setForm({ ...form, since: e.target.value })}
          />
        </label>
        <label>
          To
          <input
            type="date"
            value={form.until}
            onChange={(e) => setForm({ ...form, until: e.target.value })}
          />
        </label>
        <label className="grow">
          Text
          <input
            type="search"
            value={form.q}
            onChange={(e) => setForm({ ...form, q: e.target.value })}
          />
        </label>
        <button type="submit" className="primary">
          Filter
        </button>
        <button
          type="button"
          onClick={() => {
            setForm(EMPTY)
            setApplied(EMPTY)
          }}
        >
          Clear
        </button>
      </form>
      <p className="exports">
        Export {applied.since || applied.until ? 'these dates' : 'everything'}:{' '}
        {FORMATS.map(([f, label]) => (
          <a
            key={f}
            className="button"
            download
            href={`${API}/audit/export${query({ format: f, since: params.since, until: params.until })}`}
          >
            {label}
          </a>
        ))}
      </p>
      <Loading error={first.error} loading={first.loading} />
      {!first.loading && records.length === 0 && <Empty>No records match.</Empty>}
      {records.length > 0 && (
        <table className="grid audit" data-testid="audit-records">
          <caption className="sr-only">Audit records, newest first</caption>
          <Head cols={['Seq', 'Time', 'Kind', 'Actor', 'Document', 'Details']} />
          <tbody>
            {records.map((r) => (
              <tr key={r.seq}>
                <td>{r.seq}</td>
                <td>
                  <When t={Date.parse(r.ts)} />
                </td>
                <td>{r.kind}</td>
                <td>
                  {r.actor}
                  {r.role ? <span className="muted"> ({r.role})</span> : null}
                </td>
                <td>{r.room ?? '—'}</td>
                <td>
                  <code className="details">{summary(r)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next !== null && (
        <button
          type="button"
          disabled={more.busy}
          onClick={() =>
            void more.run(async () => {
              const r = await get<Page_>(`/audit${query({ ...params, limit: 100, before: next })}`)
              setPages((p) => [...p, r.records])
              setNext(r.next)
            })
          }
        >
          Older records
        </button>
      )}
      <Note note={more.note} />
    </Page>
  )
}

function summary(r: AuditRecord): string {
  const text = JSON.stringify(r.data)
  return text.length > 240 ? text.slice(0, 239) + '…' : text
}
