import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import type { AttachedTab, AttachResult } from '../../../contract'
import { errorMessage, type Api } from '../api/client'
import type { ConnectionState } from '../api/socket-bridge'
import type { PaneStatus } from '../components/TerminalPane'
import { PtyStreams } from './pty-streams'

export interface Tab {
  key: number
  status: PaneStatus
  command: { kind: 'kill' | 'restart'; seq: number } | null
  /** Set for a tab whose shell already runs on the server (re-attached or restored). */
  attached?: AttachedTab
}

/**
 * `attaching`: asking the server for this page's tabs; `ready`; `in-use`: another browser tab
 * shows them (the user chooses); `taken`: another browser tab took them over; `failed`.
 */
export type ViewState =
  | { kind: 'attaching' }
  | { kind: 'ready'; outcome: AttachResult['outcome']; graceMinutes: number }
  | { kind: 'in-use' }
  | { kind: 'taken' }
  | { kind: 'failed'; message: string }

/** The page's view id survives reloads of this browser tab, not new tabs (sessionStorage). */
const VIEW_KEY = 'cmdai:terminal.view'

let tabSeq = 0
function newTab(attached?: AttachedTab): Tab {
  return {
    key: ++tabSeq,
    status: attached
      ? {
          ptyId: attached.info.id,
          state: attached.info.running ? 'running' : 'exited',
          shell: attached.info.shell,
          cwd: attached.info.cwd,
          gitBranch: attached.info.gitBranch,
          title: attached.info.title,
        }
      : { ptyId: null, state: 'starting' },
    command: null,
    attached,
  }
}

/** A size for shells the server has to start before the page has measured itself. */
function roughSize(): { cols: number; rows: number } {
  const cols = Math.floor((window.innerWidth || 800) / 8)
  const rows = Math.floor(((window.innerHeight || 600) - 70) / 17)
  return { cols: Math.min(1000, Math.max(20, cols)), rows: Math.min(500, Math.max(5, rows)) }
}

function storedViewId(): string | undefined {
  try {
    return sessionStorage.getItem(VIEW_KEY) ?? undefined
  } catch {
    return undefined
  }
}

/**
 * The page's tabs, bound to its view on the server: attached when the page starts and again
 * whenever the connection comes back, so that a reload, a dropped connection or a restarted
 * server brings the same tabs (or, after a restart, restored ones) back.
 */
export function useTerminalTabs(api: Api, connection?: ConnectionState) {
  const streams = useMemo(() => new PtyStreams(api), [api])
  useEffect(() => () => streams.dispose(), [streams])
  const [tabs, setTabs] = useState<Tab[]>([])
  const [activeKey, setActiveKey] = useState(0)
  const [view, setView] = useState<ViewState>({ kind: 'attaching' })
  const viewId = useRef<string | undefined>(storedViewId())
  const activeIndex = useRef(0)

  /** Asks the server for this page's tabs (no state is touched until the answer is in). */
  const request = useCallback(
    async (mode: 'resume' | 'take-over' | 'new'): Promise<AttachResult | Error> => {
      streams.dropUnclaimed()
      try {
        return await api.call('pty:attach', { ...roughSize(), mode, viewId: viewId.current })
      } catch (err) {
        return err instanceof Error ? err : new Error(errorMessage(err))
      }
    },
    [api, streams],
  )

  const apply = useCallback((result: AttachResult | Error) => {
    if (result instanceof Error) {
      setView({ kind: 'failed', message: result.message })
      return
    }
    viewId.current = result.viewId
    if (result.outcome === 'in-use') {
      setTabs([])
      setView({ kind: 'in-use' })
      return
    }
    try {
      sessionStorage.setItem(VIEW_KEY, result.viewId)
    } catch {
      // Storage is off: a reload then takes the newest free view instead.
    }
    const next = result.tabs.length > 0 ? result.tabs.map((t) => newTab(t)) : [newTab()]
    setTabs(next)
    setActiveKey(next[Math.min(activeIndex.current, next.length - 1)]!.key)
    setView({ kind: 'ready', outcome: result.outcome, graceMinutes: result.graceMinutes })
  }, [])

  // Attach at start and after every reconnection (the socket bridge keeps retrying).
  const open = (connection ?? 'open') === 'open'
  useEffect(() => {
    if (!open) return
    let live = true
    void request('resume').then((result) => live && apply(result))
    return () => {
      live = false
    }
  }, [open, request, apply])

  useEffect(
    () =>
      api.on('pty:detached', ({ viewId: id }) => {
        if (id !== viewId.current) return
        setTabs([])
        setView({ kind: 'taken' })
      }),
    [api],
  )

  useEffect(() => {
    const index = tabs.findIndex((t) => t.key === activeKey)
    if (index >= 0) activeIndex.current = index
  }, [tabs, activeKey])

  const addTab = useCallback(() => {
    const tab = newTab()
    setTabs((current) => [...current, tab])
    setActiveKey(tab.key)
  }, [])

  const closeTab = useCallback(
    (key: number) => {
      setTabs((current) => {
        const index = current.findIndex((t) => t.key === key)
        const closing = current[index]
        if (closing?.status.ptyId) {
          void api.call('pty:dispose', { id: closing.status.ptyId }).catch(() => undefined)
        }
        const next = current.filter((t) => t.key !== key)
        const remaining = next.length > 0 ? next : [newTab()]
        setActiveKey((active) =>
          active === key ? remaining[Math.min(index, remaining.length - 1)]!.key : active,
        )
        return remaining
      })
    },
    [api],
  )

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

  return {
    streams,
    tabs,
    activeKey,
    setActiveKey,
    addTab,
    closeTab,
    sendCommand,
    updateStatus,
    view,
    /** Move this page's view here from the browser tab that shows it. */
    takeOver: () => void request('take-over').then(apply),
    /** Leave the other page's view alone and start empty here. */
    startNew: () => void request('new').then(apply),
  }
}
