import type { LibraryInfo } from '../../../../contract'

/** One word (and a title with the details) for the team libraries' sync state. */
export function describeSync(libraries: LibraryInfo[]): {
  text: string
  detail: string
  tone: 'ok' | 'busy' | 'warn' | 'off'
} {
  const team = libraries.filter((l) => l.kind === 'team')
  if (team.length === 0)
    return { text: 'sync: off', detail: 'No team libraries joined', tone: 'off' }
  const detail = team
    .map((l) => `${l.id}: ${label(l)}${l.sync.reason ? ` (${l.sync.reason})` : ''}`)
    .join('\n')
  const states = team.map((l) => l.sync.state)
  if (states.includes('refused')) {
    const r = team.find((l) => l.sync.state === 'refused')!
    return { text: `sync: refused — ${r.sync.reason ?? ''}`.slice(0, 80), detail, tone: 'warn' }
  }
  if (states.includes('offline'))
    return {
      text: `sync: offline${team.some((l) => l.sync.unsynced) ? ' (edits kept)' : ''}`,
      detail,
      tone: 'warn',
    }
  if (states.some((s) => s === 'connecting' || s === 'syncing'))
    return { text: 'sync: syncing…', detail, tone: 'busy' }
  if (team.some((l) => l.readOnly)) return { text: 'sync: synced (read-only)', detail, tone: 'ok' }
  return { text: 'sync: synced', detail, tone: 'ok' }
}

function label(l: LibraryInfo): string {
  return `${l.sync.state}${l.readOnly ? ', read-only' : ''}${l.sync.refusedWrites ? `, ${l.sync.refusedWrites} write(s) refused` : ''}`
}
