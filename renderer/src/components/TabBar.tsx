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

  // Arrow keys move between tabs, Home/End jump, Delete closes the focused tab.
  const onTabKey = (event: React.KeyboardEvent<HTMLDivElement>) => {
    const index = tabs.findIndex((t) => t.key === activeKey)
    let next: TabSummary | undefined
    if (event.key === 'ArrowRight') next = tabs[(index + 1) % tabs.length]
    else if (event.key === 'ArrowLeft') next = tabs[(index - 1 + tabs.length) % tabs.length]
    else if (event.key === 'Home') next = tabs[0]
    else if (event.key === 'End') next = tabs[tabs.length - 1]
    else if (event.key === 'Delete') {
      event.preventDefault()
      props.onClose(activeKey)
      return
    } else return
    event.preventDefault()
    if (!next) return
    props.onSelect(next.key)
    const list = event.currentTarget
    requestAnimationFrame(() =>
      list.querySelector<HTMLElement>(`[data-key="${next.key}"]`)?.focus(),
    )
  }

  return (
    <header className="tabbar">
      <div className="tabs">
        {/* The tablist holds only tabs (WAI-ARIA); closing is a mouse target inside the tab and
            Delete or Ctrl+Shift+W from the keyboard. */}
        <div className="tablist" role="tablist" aria-label="Terminals" onKeyDown={onTabKey}>
          {tabs.map((tab) => {
            const active = tab.key === activeKey
            return (
              <div
                key={tab.key}
                role="tab"
                tabIndex={active ? 0 : -1}
                className={`tab ${active ? 'active' : ''}`}
                aria-selected={active}
                aria-keyshortcuts="Delete"
                data-state={tab.state}
                data-key={tab.key}
                onClick={() => props.onSelect(tab.key)}
              >
                <span className="tab-title">
                  {tab.state === 'exited' || tab.state === 'failed' ? '■ ' : ''}
                  {tab.title}
                </span>
                <span
                  className="tab-close"
                  aria-hidden="true"
                  title={`Close ${tab.title} (Ctrl+Shift+W)`}
                  data-testid={`close-tab-${tab.key}`}
                  onClick={(event) => {
                    event.stopPropagation()
                    props.onClose(tab.key)
                  }}
                >
                  ×
                </span>
              </div>
            )
          })}
        </div>
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
          <button
            onClick={props.onAsk}
            title="Ask for a command"
            aria-keyshortcuts="Control+K Meta+K"
          >
            Ask <kbd aria-hidden="true">{describeShortcut('Mod+K')}</kbd>
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
