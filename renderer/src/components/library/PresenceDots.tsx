import type { Presence } from '../../../../contract'

/** Teammates on a pattern: a coloured initial each, with their name for screen readers. */
export function PresenceDots({ peers, label }: { peers: Presence[]; label: string }) {
  if (peers.length === 0) return null
  const names = [...new Set(peers.map((p) => p.user))]
  return (
    <span className="presence" data-testid="presence" title={`${names.join(', ')} ${label}`}>
      {names.slice(0, 4).map((name) => (
        <span
          key={name}
          className="presence-dot"
          style={{ background: peers.find((p) => p.user === name)?.color }}
          aria-hidden="true"
        >
          {name.slice(0, 1).toUpperCase()}
        </span>
      ))}
      <span className="sr-only">
        {names.join(', ')} {label}
      </span>
    </span>
  )
}
