import { describeShortcut } from '../lib/shortcuts'
import type { PaneStatus } from './TerminalPane'

export interface TabSummary {
  key: number
  title: string
  state: PaneStatus['state']
}

interface Props {
  tabs: TabSummary[]
  activeKey: number
  activeState: PaneStatus['state']
  onSelect(key: number): void
  onClose(key: number): void
  onNew(): void
  onKill(): void
  onRestart(): void
  onAsk?(): void
  onHistory?(): void
  onModels?(): void
  onSettings?(): void
}

export function TabBar(props: Props) {
  const { tabs, activeKey, activeState } = props
  return (
    <header className="tabbar">
      <div className="tabs" role="tablist" aria-label="Terminals">
        {tabs.map((tab) => (
          <div key={tab.key} className={`tab ${tab.key === activeKey ? 'active' : ''}`}>
            <button
              role="tab"
              className="tab-title"
              aria-selected={tab.key === activeKey}
              data-state={tab.state}
              onClick={() => props.onSelect(tab.key)}
            >
              {tab.state === 'exited' || tab.state === 'failed' ? '■ ' : ''}
              {tab.title}
            </button>
            <button
              className="tab-close"
              aria-label={`Close ${tab.title}`}
              title="Close tab (Ctrl+Shift+W)"
              onClick={() => props.onClose(tab.key)}
            >
              ×
            </button>
          </div>
        ))}
        <button
          className="tab-new"
          aria-label="New tab"
          title="New tab (Ctrl+Shift+T)"
          onClick={props.onNew}
        >
          +
        </button>
      </div>
      <div className="tab-actions">
        {props.onAsk && (
          <button onClick={props.onAsk} aria-label="Ask for a command" title="Ask (Ctrl/Cmd+K)">
            Ask <kbd>{describeShortcut('Mod+K')}</kbd>
          </button>
        )}
        {props.onHistory && (
          <button onClick={props.onHistory} aria-label="Search history" title="History (Ctrl+R)">
            History
          </button>
        )}
        {props.onModels && (
          <button onClick={props.onModels} aria-label="Models">
            Models
          </button>
        )}
        {props.onSettings && (
          <button onClick={props.onSettings} aria-label="Settings">
            Settings
          </button>
        )}
        <button onClick={props.onRestart} aria-label="Restart shell">
          Restart shell
        </button>
        <button onClick={props.onKill} aria-label="Kill shell" disabled={activeState !== 'running'}>
          Kill shell
        </button>
      </div>
    </header>
  )
}
