import { useState, type ReactNode } from 'react'

/** A message read out by screen readers when it appears. */
export function Note({ note }: { note: { kind: 'ok' | 'error'; text: string } | null }) {
  return (
    <p className={`note ${note?.kind ?? ''}`} role={note?.kind === 'error' ? 'alert' : 'status'}>
      {note?.text ?? ''}
    </p>
  )
}

export function Risk({ risk }: { risk: string }) {
  return <span className={`risk risk-${risk}`}>{risk}</span>
}

export function When({ t }: { t: number | null | undefined }) {
  if (t === null || t === undefined) return <span className="muted">—</span>
  const d = new Date(t)
  return <time dateTime={d.toISOString()}>{d.toLocaleString()}</time>
}

export function Copy({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState(false)
  return (
    <button
      type="button"
      onClick={() =>
        void navigator.clipboard?.writeText(text).then(
          () => {
            setDone(true)
            setTimeout(() => setDone(false), 1500)
          },
          () => setDone(false),
        )
      }
    >
      {done ? 'Copied' : label}
    </button>
  )
}

export function Page({
  title,
  children,
  actions,
}: {
  title: string
  children: ReactNode
  actions?: ReactNode
}) {
  return (
    <section className="page" aria-labelledby="page-title">
      <header className="page-head">
        <h1 id="page-title">{title}</h1>
        {actions}
      </header>
      {children}
    </section>
  )
}

export function Loading({ error, loading }: { error: string | null; loading: boolean }) {
  if (error)
    return (
      <p role="alert" className="note error">
        {error}
      </p>
    )
  if (loading) return <p className="muted">Loading…</p>
  return null
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>
}

/** A table's column headers; an empty name is an actions column (named for screen readers). */
export function Head({ cols }: { cols: string[] }) {
  return (
    <thead>
      <tr>
        {cols.map((c, i) => (
          <th key={i} scope="col">
            {c || <span className="sr-only">Actions</span>}
          </th>
        ))}
      </tr>
    </thead>
  )
}
