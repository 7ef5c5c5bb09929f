import type { AppInfo } from '../../../contract'
import type { ConnectionState } from '../api/socket-bridge'
import type { PaneStatus } from './TerminalPane'

interface Props {
  info: AppInfo | null
  status: PaneStatus | null
  connection: ConnectionState
}

export function StatusBar({ info, status, connection }: Props) {
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
      <span className="status-spacer" />
      {info?.host === 'browser' && (
        <span className={`status-item conn-${connection}`} data-testid="status-connection">
          {connection === 'open' ? 'browser mode' : connection}
        </span>
      )}
      <span className="status-item">cmdai {info?.version ?? ''}</span>
    </footer>
  )
}
