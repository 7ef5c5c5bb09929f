import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react'
import type { AppInfo } from '../../../contract'
import type { Api } from '../api/client'
import type { ConnectionState } from '../api/socket-bridge'
import { useModelsSummary, type ModelsSummary } from '../hooks/use-models-summary'
import { usePrefersDark } from '../hooks/use-prefers-dark'
import { useHistoryStatus, useLlmState } from '../hooks/use-services-state'
import { useSettings } from '../hooks/use-settings'
import { describeShortcut, matchesShortcut } from '../lib/shortcuts'
import { ExplainPanel } from './explain/ExplainPanel'
import { HistoryPanel } from './history/HistoryPanel'
import { ModelManager, type RequestTiming } from './models/ModelManager'
import { FirstRun, shouldShowFirstRun } from './onboarding/FirstRun'
import { dialectOf, Palette } from './palette/Palette'
import { SettingsPanel, type SettingsSection } from './settings/SettingsPanel'
import { LibraryPanel, type LibraryStart } from './library/LibraryPanel'
import { useLibraries } from './library/use-library'
import { useTeamIdentity } from './identity/use-identity'
import { AgentApprovals } from './agents/AgentApprovals'
import { StatusBar } from './StatusBar'
import { TabBar, type TabSummary } from './TabBar'
import { TerminalPane, type PaneStatus } from './TerminalPane'
import { useTerminalTabs } from '../terminal/use-terminal-tabs'
import { ConnectionBanner, ViewChoice } from '../terminal/ViewNotice'

interface Props {
  api: Api
  /** Browser mode only: the socket's state, so a lost connection is visible. */
  connection?: { readonly state: ConnectionState; subscribe(cb: () => void): () => void }
}

type Panel =
  | { kind: 'palette'; request?: string }
  | { kind: 'history' }
  | { kind: 'library'; start?: LibraryStart }
  | { kind: 'explain'; command: string }
  | { kind: 'models' }
  | { kind: 'settings'; section?: SettingsSection }
  | null

const noSubscription = () => () => undefined

export function App({ api, connection }: Props) {
  const prefersDark = usePrefersDark()
  const settings = useSettings(api).snapshot?.settings ?? null
  const llm = useLlmState(api)
  const historyStatus = useHistoryStatus(api)
  const { libraries } = useLibraries(api)
  const identities = useTeamIdentity(api, libraries)
  const theme = settings?.appearance.theme ?? 'system'
  const dark = theme === 'system' ? prefersDark : theme === 'dark'
  const [info, setInfo] = useState<AppInfo | null>(null)
  const [panel, setPanel] = useState<Panel>(null)
  const [timings, setTimings] = useState<RequestTiming[]>([])
  const [firstRun, setFirstRun] = useState(false)
  /** A short note at the bottom (e.g. why a shortcut did nothing); it goes away by itself. */
  const [note, setNote] = useState<string | null>(null)
  const models = useModelsSummary(api)
  useEffect(() => {
    if (!note) return
    const timer = setTimeout(() => setNote(null), 6000)
    return () => clearTimeout(timer)
  }, [note])
  const selection = useRef('')
  const connState = useSyncExternalStore<ConnectionState>(
    connection?.subscribe ?? noSubscription,
    () => connection?.state ?? 'open',
  )
  // Tabs live on the server: attached at start and after every reconnection.
  const terminals = useTerminalTabs(api, connection ? connState : undefined)
  const { tabs, activeKey, setActiveKey, addTab, closeTab, sendCommand, updateStatus } = terminals

  useEffect(() => {
    api.call('app:info', {}).then(setInfo, () => undefined)
  }, [api])

  // First run: no model yet and the card not dismissed. Decided once, when settings are known.
  const settingsKnown = settings !== null
  useEffect(() => {
    if (!settingsKnown || !settings) return
    let live = true
    api.call('models:list', {}).then(
      (list) => live && setFirstRun(shouldShowFirstRun(settings, list)),
      () => undefined,
    )
    return () => {
      live = false
    }
    // Only the first settings snapshot matters here; later changes are the card's own doing.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, settingsKnown])

  useEffect(
    () => api.on('app:menu', ({ action }) => (action === 'new-tab' ? addTab() : undefined)),
    [api, addTab],
  )

  const active = tabs.find((t) => t.key === activeKey)
  const shortcuts = settings?.shortcuts

  // App shortcuts are taken in the capture phase, before xterm sees the keys.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const take = () => {
        event.preventDefault()
        event.stopPropagation()
      }
      if (matchesShortcut(event, shortcuts?.palette ?? 'Mod+K')) {
        take()
        setPanel((p) => (p?.kind === 'palette' ? null : { kind: 'palette' }))
      } else if (matchesShortcut(event, shortcuts?.history ?? 'Ctrl+R')) {
        take()
        setPanel({ kind: 'history' })
      } else if (matchesShortcut(event, shortcuts?.explain ?? 'Mod+Shift+E')) {
        take()
        const text = selection.current.trim()
        if (text) setPanel({ kind: 'explain', command: text })
        else
          setNote(
            `Nothing is selected. Select a command in the terminal (drag over it), then press ${describeShortcut(shortcuts?.explain ?? 'Mod+Shift+E')} to explain it.`,
          )
      } else if (matchesShortcut(event, shortcuts?.newTab ?? 'Ctrl+Shift+T')) {
        take()
        addTab()
      } else if (matchesShortcut(event, shortcuts?.settings ?? 'Mod+,')) {
        // Settings without the pointer (the terminal keeps Tab); Models is one Tab stop further.
        take()
        setPanel({ kind: 'settings' })
      } else if (event.ctrlKey && event.shiftKey && event.key.toLowerCase() === 'l') {
        take()
        setPanel((p) => (p?.kind === 'library' ? null : { kind: 'library' }))
      } else if (event.ctrlKey && event.shiftKey && event.key.toLowerCase() === 'w') {
        take()
        closeTab(activeKey)
      } else if (event.ctrlKey && (event.key === 'PageDown' || event.key === 'PageUp')) {
        take()
        const index = tabs.findIndex((t) => t.key === activeKey)
        const step = event.key === 'PageDown' ? 1 : -1
        const next = tabs[(index + step + tabs.length) % tabs.length]
        if (next) setActiveKey(next.key)
      }
    }
    window.addEventListener('keydown', onKey, true)
    return () => window.removeEventListener('keydown', onKey, true)
  }, [addTab, closeTab, activeKey, tabs, shortcuts, setActiveKey])

  const closePanel = useCallback(() => setPanel(null), [])
  const insertAtPrompt = useCallback(
    (command: string) => {
      const ptyId = active?.status.ptyId
      if (ptyId)
        void api.call('pty:write', { id: ptyId, data: `\x15${command}` }).catch(() => undefined)
      setPanel(null)
    },
    [api, active?.status.ptyId],
  )

  const summaries: TabSummary[] = useMemo(
    () =>
      tabs.map((t, i) => ({ key: t.key, title: tabTitle(t.status, i + 1), state: t.status.state })),
    [tabs],
  )
  const modelNotice = describeModel(llm, models)

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
        onAsk={() => setPanel({ kind: 'palette' })}
        onHistory={() => setPanel({ kind: 'history' })}
        onModels={() => setPanel({ kind: 'models' })}
        onSettings={() => setPanel({ kind: 'settings' })}
        activeState={active?.status.state ?? 'starting'}
      />
      <ConnectionBanner
        connection={connState}
        graceMinutes={terminals.view.kind === 'ready' ? terminals.view.graceMinutes : null}
      />
      <main className="terminals">
        <ViewChoice
          view={terminals.view}
          onTakeOver={terminals.takeOver}
          onStartNew={terminals.startNew}
        />
        {tabs.map((tab) => (
          <TerminalPane
            key={tab.key}
            api={api}
            streams={terminals.streams}
            attached={tab.attached}
            active={tab.key === activeKey}
            dark={dark}
            command={tab.command}
            gpuAcceleration={settings?.terminal.gpuAcceleration}
            fontSize={settings?.appearance.fontSize}
            fontFamily={settings?.appearance.fontFamily}
            scrollback={settings?.terminal.scrollback}
            safetyLevel={settings?.safety.level}
            onStatus={(status) => updateStatus(tab.key, status)}
            onAsk={(request) => setPanel({ kind: 'palette', request })}
            onSelection={(text) => {
              if (tab.key === activeKey) selection.current = text
            }}
          />
        ))}
        {firstRun && (
          <FirstRun
            api={api}
            active={llm?.model ?? models?.active ?? null}
            onDismiss={() => setFirstRun(false)}
            onOpenModels={() => setPanel({ kind: 'models' })}
          />
        )}
      </main>
      {note && (
        <p className="app-note" role="status" data-testid="app-note">
          {note}
        </p>
      )}
      {panel?.kind === 'palette' && (
        <Palette
          api={api}
          target={{
            ptyId: active?.status.ptyId ?? null,
            cwd: active?.status.cwd,
            shell: active?.status.shell,
            gitBranch: active?.status.gitBranch,
          }}
          safetyLevel={settings?.safety.level ?? 'moderate'}
          initialRequest={panel.request}
          modelNotice={modelNotice}
          onClose={closePanel}
          onGenerated={(t) => setTimings((list) => [t, ...list].slice(0, 5))}
          onPattern={(hit) =>
            setPanel({
              kind: 'library',
              start: { library: hit.library, patternId: hit.pattern.id, mode: 'run' },
            })
          }
        />
      )}
      {panel?.kind === 'models' && (
        <ModelManager
          api={api}
          onClose={closePanel}
          recentTimings={timings}
          onOpenSettings={() => setPanel({ kind: 'settings', section: 'privacy' })}
        />
      )}
      {panel?.kind === 'settings' && (
        <SettingsPanel
          api={api}
          onClose={closePanel}
          onOpenModels={() => setPanel({ kind: 'models' })}
          initialSection={panel.section}
        />
      )}
      {panel?.kind === 'history' && (
        <HistoryPanel
          api={api}
          cwd={active?.status.cwd}
          onInsert={insertAtPrompt}
          onExplain={(command) => setPanel({ kind: 'explain', command })}
          onSaveAsPattern={(commands) =>
            void api.call('library:suggest', { commands }).then(
              (s) =>
                setPanel({
                  kind: 'library',
                  start: {
                    mode: 'new',
                    draft: {
                      title: commands[0]!.slice(0, 80),
                      command: s.command,
                      parameters: s.parameters,
                    },
                  },
                }),
              () => undefined,
            )
          }
          onClose={closePanel}
        />
      )}
      {panel?.kind === 'library' && (
        <LibraryPanel
          api={api}
          target={{ ptyId: active?.status.ptyId ?? null, shell: dialectOf(active?.status.shell) }}
          start={panel.start}
          onClose={closePanel}
        />
      )}
      {panel?.kind === 'explain' && (
        <ExplainPanel
          api={api}
          command={panel.command}
          shell={dialectOf(active?.status.shell)}
          onClose={closePanel}
        />
      )}
      <AgentApprovals api={api} />
      <StatusBar
        info={info}
        status={active?.status ?? null}
        connection={connState}
        llm={llm}
        history={historyStatus}
        libraries={libraries}
        identities={identities}
        onOpenLibrary={() => setPanel({ kind: 'library' })}
      />
    </div>
  )
}

/**
 * What the palette says while the model cannot answer; null when it can. It names the model main
 * recommends, the same one the first-run card and the model manager offer.
 */
function describeModel(
  llm: ReturnType<typeof useLlmState>,
  models: ModelsSummary | null,
): string | null {
  if (!llm || llm.state === 'ready') return null
  if (llm.state === 'loading') return 'The model is loading; matches from your history meanwhile.'
  if (llm.state === 'error')
    return `The model could not load: ${llm.error?.message ?? 'unknown error'}.`
  // Idle: a model on disk loads with the first request.
  if (llm.model || models?.active || !models) return null
  const name = models.recommendedName ?? 'a model'
  return `No model yet: download ${name} in Models (or from the first-run card). Until then, matches come from your history.`
}

function tabTitle(status: PaneStatus, index: number): string {
  if (status.title) return status.title
  const shell = status.shell?.split('/').pop() ?? 'shell'
  const dir = status.cwd ? (status.cwd.split('/').filter(Boolean).pop() ?? '/') : ''
  return dir ? `${shell}: ${dir}` : `${shell} ${index}`
}
