import './identity.css'
import { useEffect, useMemo, useState } from 'react'
import type { LibraryInfo, TeamIdentity } from '../../../../contract'
import type { Api } from '../../api/client'

/**
 * The teams the app is signed in to, as their servers see the user now (effective role, an
 * elevation and its end): asked again when a team library's role or state changes, and every
 * minute. A server that cannot be asked leaves the team with its error, never a guess.
 */
export function useTeamIdentity(api: Api, libraries: LibraryInfo[]): TeamIdentity[] {
  const [teams, setTeams] = useState<TeamIdentity[]>([])
  // Roles and states of the team libraries: when one changes, the server has news.
  const key = useMemo(
    () =>
      libraries
        .filter((l) => l.kind === 'team')
        .map((l) => `${l.id}:${l.sync.state}:${l.sync.role ?? ''}`)
        .sort()
        .join('|'),
    [libraries],
  )
  useEffect(() => {
    if (!key) return
    let live = true
    const ask = () =>
      api.call('identity:status', {}).then(
        (r) => live && setTeams(r.teams),
        () => {},
      )
    void ask()
    const timer = setInterval(() => void ask(), 60_000)
    return () => {
      live = false
      clearInterval(timer)
    }
  }, [api, key])
  // With no team library left, nothing to show (whatever the last answer said).
  return key ? teams : []
}

/** Now, every `ms` (for counting down the time an elevation has left). */
export function useNow(ms = 15_000): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms)
    return () => clearInterval(t)
  }, [ms])
  return now
}

/** "42 min", "1 h 5 min", "30 s". */
export function timeLeft(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s} s`
  const m = Math.round(s / 60)
  if (m < 60) return `${m} min`
  return `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`
}

/** The status bar's words for the user's access: effective role, and time left elevated. */
export function describeAccess(
  teams: TeamIdentity[],
  now: number,
): { text: string; detail: string; elevated: boolean } | null {
  const known = teams.filter((t) => t.view)
  if (known.length === 0) return null
  const parts = known.map((t) => {
    const v = t.view!
    const e = v.elevation
    return e?.expiresAt && e.expiresAt > now
      ? `${v.team}: ${v.role} ↑ ${timeLeft(e.expiresAt - now)}`
      : `${v.team}: ${v.role}`
  })
  const detail = known
    .map((t) => {
      const v = t.view!
      const e = v.elevation
      const lines = [`${v.team} as ${v.user} (${t.sso ? 'single sign-on' : 'token'}): ${v.role}`]
      if (e?.expiresAt)
        lines.push(
          `  elevated from ${v.baseRole} until ${new Date(e.expiresAt).toLocaleTimeString()} — ${e.reason}`,
        )
      if (v.pending) lines.push(`  asked for ${v.pending.role}, waiting for approval`)
      return lines.join('\n')
    })
    .join('\n')
  return {
    text: parts.join(' · '),
    detail,
    elevated: known.some((t) => (t.view!.elevation?.expiresAt ?? 0) > now),
  }
}
