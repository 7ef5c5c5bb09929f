import { useCallback, useEffect, useMemo, useState, useSyncExternalStore } from 'react'
import type { AppInfo } from '../../../contract'
import type { Api } from '../api/client'
import type { ConnectionState } from '../api/socket-bridge'
import { usePrefersDark } from '../hooks/use-prefers-dark'
import { StatusBar } from './StatusBar'
import { TabBar, type TabSummary } from './TabBar'
import { TerminalPane, type PaneStatus } from './TerminalPane'

interface Props {
  api: Api
  /** Browser mode only: the socket's state, so a lost connection is visible. */
  connection?: { readonly state: ConnectionState; subscribe(cb: () => void): () => void }
}

interface Tab {
  key: number
  status: PaneStatus
  command: { kind: 'kill' | 'restart'; seq: number } | null
}

const noSubscription = () => () => undefined

let tabSeq = 0
const newTab = (): Tab => ({
  key: ++tabSeq,
  status: { ptyId: null, state: 'starting' },
  command: null,
})

export function App({ api, connection }: Props) {
  const dark = usePrefersDark()
  const [tabs, setTabs] = useState<Tab[]>(() => [newTab()])
  const [activeKey, setActiveKey] = useState(tabs[0]!.key)
  const [info, setInfo] = useState<AppInfo | null>(null)
  const connState = useSyncExternalStore<ConnectionState>(
    connection?.subscribe ?? noSubscription,
    () => connection?.state ?? 'open',
  )

  useEffect(() => {
    api.call('app:info', {}).then(setInfo, () => undefined)
  }, [api])

  const addTab = useCallback(() => {
    const tab = newTab()
    setTabs((current) => [...current, tab])
    setActiveKey(tab.key)
  }, [])

  const closeTab = useCallback((key: number) => {
    setTabs((current) => {
      const index = current.findIndex((t) => t.key === key)
      const next = current.filter((t) => t.key !== key)
      const remaining = next.length > 0 ? next : [newTab()]
      setActiveKey((active) =>
        active === key ? remaining[Math.min(index, remaining.length - 1)]!.key : active,
      )
      return remaining
    })
  }, [])

  const sendCommand = useCallback((key: number, kind: 'kill' | 'restart') => {
    setTabs((current) =>
      current.map((t) =>
        t.key === key ? { ...t, command: { kind, seq: (t.command?.seq ?? 0) + 1 } } : t,
      ),
    )
  }, [])

  const updateStatus = useCallback((key: number, status: PaneStatus) => {
    setTabs((current) => current.map((t) => (t.key === key ? { ...t, status } : t)))
  }, [])

  useEffect(
    () => api.on('app:menu', ({ action }) => (action === 'new-tab' ? addTab() : undefined)),
    [api, addTab],
  )

  // Keyboard: Ctrl+Shift+T new tab, Ctrl+Shift+W close, Ctrl+PageUp/PageDown switch.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey && event.shiftKey && event.key.toLowerCase() === 't') {
        event.preventDefault()
        addTab()
      } else if (event.ctrlKey && event.shiftKey && event.key.toLowerCase() === 'w') {
        event.preventDefault()
        closeTab(activeKey)
      } else if (event.ctrlKey && (event.key === 'PageDown' || event.key === 'PageUp')) {
        event.preventDefault()
        const index = tabs.findIndex((t) => t.key === activeKey)
        const step = event.key === 'PageDown' ? 1 : -1
        const next = tabs[(index + step + tabs.length) % tabs.length]
        if (next) setActiveKey(next.key)
      }
    }
    window.addEventListener('keydown', onKey, true)
    return () => window.removeEventListener('keydown', onKey, true)
  }, [addTab, closeTab, activeKey, tabs])

  const summaries: TabSummary[] = useMemo(
    () =>
      tabs.map((t, i) => ({
        key: t.key,
        title: tabTitle(t.status, i + 1),
        state: t.status.state,
      })),
    [tabs],
  )
  const active = tabs.find((t) => t.key === activeKey)

  return (
    <div className={`app ${dark ? 'theme-dark' : 'theme-light'}`}>
      <TabBar
        tabs={summaries}
        activeKey={activeKey}
        onSelect={setActiveKey}
        onClose={closeTab}
        onNew={addTab}
        onKill={() => sendCommand(activeKey, 'kill')}
        onRestart={() => sendCommand(activeKey, 'restart')}
        activeState={active?.status.state ?? 'starting'}
      />
      {connState === 'closed' && (
        <div className="banner banner-error" role="alert">
          Lost the connection to cmdai. Its terminals are gone; reload the page after restarting
          `cmdai serve`.
        </div>
      )}
      <main className="terminals">
        {tabs.map((tab) => (
          <TerminalPane
            key={tab.key}
            api={api}
            active={tab.key === activeKey}
            dark={dark}
            command={tab.command}
            onStatus={(status) => updateStatus(tab.key, status)}
          />
        ))}
      </main>
      <StatusBar info={info} status={active?.status ?? null} connection={connState} />
    </div>
  )
}

function tabTitle(status: PaneStatus, index: number): string {
  const shell = status.shell?.split('/').pop() ?? 'shell'
  const dir = status.cwd ? (status.cwd.split('/').filter(Boolean).pop() ?? '/') : ''
  return dir ? `${shell}: ${dir}` : `${shell} ${index}`
}
