import type { AppInfo, HistoryStatus, LibraryInfo, LlmState, TeamIdentity } from '../../../contract'
import { repairCommandOf } from './history/HistoryHealth'
import type { ConnectionState } from '../api/socket-bridge'
import { describeSync } from './library/SyncStatus'
import { describeAccess, useNow } from './identity/use-identity'
import type { PaneStatus } from './TerminalPane'

interface Props {
  info: AppInfo | null
  status: PaneStatus | null
  connection: ConnectionState
  llm?: LlmState | null
  history?: HistoryStatus | null
  /** Libraries with their team sync state. */
  libraries?: LibraryInfo[]
  /** The teams signed in to, with the effective role and any elevation (`identity:status`). */
  identities?: TeamIdentity[]
  onOpenLibrary?(): void
}

export function StatusBar({
  info,
  status,
  connection,
  llm,
  history,
  libraries = [],
  identities = [],
  onOpenLibrary,
}: Props) {
  const sync = describeSync(libraries)
  const access = describeAccess(identities, useNow())
  const home = info?.homeDir
  const cwd =
    status?.cwd && home && status.cwd.startsWith(home)
      ? '~' + status.cwd.slice(home.length)
      : status?.cwd
  return (
    <footer className="statusbar" aria-label="Status">
      <span className="status-item" data-testid="status-shell">
        {status?.state === 'failed'
          ? `shell failed: ${status.error ?? ''}`
          : (status?.shell ?? 'starting…')}
      </span>
      <span className="status-item" data-testid="status-cwd" title={status?.cwd}>
        {cwd ?? ''}
      </span>
      {status?.gitBranch && (
        <span className="status-item" data-testid="status-git" title="git branch">
          ⎇ {status.gitBranch}
        </span>
      )}
      <span className="status-spacer" />
      <span className="status-item" data-testid="status-model" title={llm?.model?.reason ?? ''}>
        {describeLlm(llm)}
      </span>
      <span
        className={`status-item${history?.state === 'failed' ? ' tone-error' : ''}`}
        data-testid="status-db"
        title={historyDetail(history)}
      >
        {describeHistory(history)}
      </span>
      <button
        type="button"
        className={`status-item status-sync tone-${sync.tone}`}
        data-testid="status-sync"
        title={`${sync.detail}\nOpen the libraries (Ctrl+Shift+L)`}
        onClick={onOpenLibrary}
      >
        {sync.text}
      </button>
      {access && (
        <button
          type="button"
          className={`status-item status-sync status-access${access.elevated ? ' tone-elevated' : ''}`}
          data-testid="status-access"
          title={`${access.detail}\nYour access: open the libraries`}
          onClick={onOpenLibrary}
        >
          {access.text}
        </button>
      )}
      {info?.host === 'browser' && (
        <span className={`status-item conn-${connection}`} data-testid="status-connection">
          {connection === 'open' ? 'browser mode' : connection}
        </span>
      )}
      <span className="status-item">cmdai {info?.version ?? ''}</span>
    </footer>
  )
}

function describeLlm(llm: LlmState | null | undefined): string {
  if (!llm) return 'model: …'
  if (!llm.model) return 'model: none'
  if (llm.state === 'ready') return `model: ${llm.model?.id ?? '?'} (${llm.compute ?? llm.backend})`
  if (llm.state === 'loading') return `model: loading ${llm.model?.id ?? ''}`
  if (llm.state === 'error') return 'model: error'
  return llm.model ? `model: ${llm.model.id}` : 'model: none'
}

function describeHistory(history: HistoryStatus | null | undefined): string {
  if (!history) return 'history: …'
  if (history.state === 'ready') return 'history: ready'
  if (history.state === 'opening') return 'history: opening…'
  // Which file, and the command that repairs it; the tooltip says what it means.
  const p = history.problem
  if (history.state === 'failed' && p) {
    return `history: ${p.file.split(/[\\/]/).pop()} damaged · run ${repairCommandOf(p.repair)}`
  }
  return `history: ${history.state}`
}

function historyDetail(history: HistoryStatus | null | undefined): string {
  const p = history?.problem
  if (!p) return history?.message ?? ''
  return `${p.file}\n${p.meaning}\nRepair: ${p.repair}`
}
