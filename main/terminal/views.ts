import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { CmdaiError, type AttachResult, type AttachedTab } from '../../contract'
import type { EventHub } from '../ipc/event-hub'
import type { PtyService } from './pty-service'
import type { SavedTab, SavedView } from './saved-tabs'

/**
 * A view is one page's set of tabs. Shells belong to views, not to connections: when a page goes
 * away its view is detached and its shells keep running for the grace period, so that a reload,
 * a dropped connection or a reopened tab gets them back. A view is shown by one page at a time.
 */
interface View {
  id: string
  client: string | null
  tabs: string[]
  /** When a page last let go of it (detached views are offered newest first). */
  detachedAt: number
  graceTimer: NodeJS.Timeout | null
}

export interface AttachArgs {
  viewId?: string
  mode: 'resume' | 'take-over' | 'new'
  cols: number
  rows: number
}

export interface ViewRegistryOptions {
  service: PtyService
  events: EventHub
  /** How long a detached view's shells live; read when a page goes away. */
  graceMs(): number
  graceMinutes(): number
  /** Views saved by the last run, newest first (empty when restoring is off). */
  restorable: SavedView[]
  /** Something changed that is worth saving (tabs opened, closed, views ended). */
  changed(): void
  /** Scrollback lines to send to a page that attaches. */
  scrollback(): number
}

export class ViewRegistry {
  private readonly views = new Map<string, View>()
  private readonly byClient = new Map<string, string>()
  private readonly restorable: SavedView[]

  constructor(private readonly options: ViewRegistryOptions) {
    this.restorable = [...options.restorable]
  }

  /** The client that shows a view's tabs; null when none (detached) or not a view. */
  audience(owner: string): string | null {
    return this.views.get(owner)?.client ?? null
  }

  /** The view a client shows, created on first use (a page that never attached). */
  viewOf(clientId: string): View {
    const id = this.byClient.get(clientId)
    const existing = id ? this.views.get(id) : undefined
    if (existing) return existing
    const view = this.newView()
    this.bind(view, clientId)
    return view
  }

  /** Throws not_found unless the tab belongs to this client's view. */
  checkOwner(clientId: string, ptyId: string): void {
    const id = this.byClient.get(clientId)
    const view = id ? this.views.get(id) : undefined
    if (!view?.tabs.includes(ptyId))
      throw new CmdaiError('not_found', `No terminal with id ${ptyId}`)
  }

  addTab(clientId: string, ptyId: string): void {
    this.viewOf(clientId).tabs.push(ptyId)
    this.options.changed()
  }

  removeTab(ptyId: string): void {
    for (const view of this.views.values()) view.tabs = view.tabs.filter((t) => t !== ptyId)
    this.options.changed()
  }

  async attach(clientId: string, args: AttachArgs): Promise<AttachResult> {
    const current = this.views.get(this.byClient.get(clientId) ?? '')
    const wanted = args.viewId ? this.views.get(args.viewId) : undefined

    if (args.mode === 'new') {
      if (current) this.release(current)
      const view = this.newView()
      this.bind(view, clientId)
      return this.result(view, 'new', [])
    }
    if (wanted && wanted.client !== null && wanted.client !== clientId) {
      if (args.mode !== 'take-over') return this.result(wanted, 'in-use', [])
      const previous = wanted.client
      this.byClient.delete(previous)
      this.options.events.emit(
        'pty:detached',
        { viewId: wanted.id, reason: 'taken-over' },
        previous,
      )
      for (const id of wanted.tabs) this.options.service.detach(id)
      wanted.client = null
    }
    if (current && current !== wanted) this.release(current)
    if (wanted) return this.resume(wanted, clientId)

    const saved = args.viewId ? this.takeRestorable(args.viewId) : undefined
    if (saved) return this.restore(saved, clientId, args)
    const detached = [...this.views.values()]
      .filter((v) => v.client === null && v.tabs.length > 0)
      .sort((a, b) => b.detachedAt - a.detachedAt)[0]
    if (detached) return this.resume(detached, clientId)
    const newest = this.takeRestorable()
    if (newest) return this.restore(newest, clientId, args)
    const view = this.newView()
    this.bind(view, clientId)
    return this.result(view, 'new', [])
  }

  /** The page went away: its view's shells live on for the grace period. */
  clientGone(clientId: string): void {
    const id = this.byClient.get(clientId)
    const view = id ? this.views.get(id) : undefined
    this.byClient.delete(clientId)
    if (view) this.release(view)
  }

  /** Live views for saving, newest first, then the saved ones no page has claimed yet. */
  snapshotForSave(now = Date.now()): SavedView[] {
    const live = [...this.views.values()]
      .filter((v) => v.tabs.length > 0)
      .sort((a, b) => (a.client ? 0 : 1) - (b.client ? 0 : 1) || b.detachedAt - a.detachedAt)
      .map((view) => ({
        id: view.id,
        savedAt: now,
        tabs: view.tabs.flatMap((id) => this.saveTab(id)),
      }))
    return [...live, ...this.restorable]
  }

  /** Stops grace timers (the app is closing; the caller ends the shells). */
  dispose(): void {
    for (const view of this.views.values()) {
      if (view.graceTimer) clearTimeout(view.graceTimer)
      view.graceTimer = null
    }
  }

  private saveTab(id: string): SavedTab[] {
    if (!this.options.service.has(id)) return []
    const info = this.options.service.infoOf(id)
    const mirror = this.options.service.mirrorOf(id)
    return [
      {
        shell: info.shell,
        cwd: info.cwd,
        title: info.title,
        cols: mirror.cols,
        rows: mirror.rows,
        screen: mirror.serializeBounded(1_000_000, {
          plain: true,
          scrollback: this.options.scrollback(),
        }),
      },
    ]
  }

  private newView(): View {
    const view: View = {
      id: randomBytes(16).toString('base64url'),
      client: null,
      tabs: [],
      detachedAt: 0,
      graceTimer: null,
    }
    this.views.set(view.id, view)
    return view
  }

  private bind(view: View, clientId: string): void {
    if (view.graceTimer) clearTimeout(view.graceTimer)
    view.graceTimer = null
    view.client = clientId
    this.byClient.set(clientId, view.id)
  }

  private release(view: View): void {
    if (view.client) this.byClient.delete(view.client)
    view.client = null
    view.detachedAt = Date.now()
    for (const id of view.tabs) this.options.service.detach(id)
    if (view.tabs.length === 0) {
      this.views.delete(view.id)
      return
    }
    if (view.graceTimer) clearTimeout(view.graceTimer)
    const ms = Math.max(0, this.options.graceMs())
    view.graceTimer = setTimeout(() => this.expire(view), ms)
    view.graceTimer.unref?.()
  }

  private expire(view: View): void {
    view.graceTimer = null
    if (view.client !== null) return
    this.views.delete(view.id)
    for (const id of view.tabs) void this.options.service.dispose(id)
    this.options.changed()
  }

  private async resume(view: View, clientId: string): Promise<AttachResult> {
    this.bind(view, clientId)
    const scrollback = this.options.scrollback()
    const tabs: AttachedTab[] = []
    for (const id of view.tabs) {
      if (!this.options.service.has(id)) continue
      const snapshot = await this.options.service.attach(id, { scrollback })
      tabs.push({ info: this.options.service.infoOf(id), ...snapshot })
    }
    return this.result(view, 'resumed', tabs)
  }

  private async restore(
    saved: SavedView,
    clientId: string,
    args: AttachArgs,
  ): Promise<AttachResult> {
    const view: View = { id: saved.id, client: null, tabs: [], detachedAt: 0, graceTimer: null }
    this.views.set(view.id, view)
    this.bind(view, clientId)
    const tabs: AttachedTab[] = []
    for (const tab of saved.tabs) {
      const info = this.startRestored(view, tab, args, saved.savedAt)
      if (!info) continue
      const snapshot = await this.options.service.attach(info, {
        scrollback: this.options.scrollback(),
      })
      tabs.push({ info: this.options.service.infoOf(info), ...snapshot, restoredAt: saved.savedAt })
    }
    this.options.changed()
    return this.result(view, tabs.length > 0 ? 'restored' : 'new', tabs)
  }

  /** A new shell where the saved one was, below its old screen; null when none can start. */
  private startRestored(
    view: View,
    tab: SavedTab,
    args: AttachArgs,
    savedAt: number,
  ): string | null {
    const cwd = existsSync(tab.cwd) ? tab.cwd : undefined
    const when = new Date(savedAt).toLocaleString()
    const preface =
      tab.screen +
      `\x1b[0m\r\n\x1b[2m── restored from ${when}: a new shell${cwd ? ` in ${cwd}` : ''} ──\x1b[0m\r\n`
    for (const shell of [tab.shell, undefined]) {
      try {
        const info = this.options.service.create(
          {
            cols: args.cols,
            rows: args.rows,
            cwd,
            shell,
            acknowledged: true,
            preface,
            title: tab.title,
          },
          view.id,
        )
        view.tabs.push(info.id)
        return info.id
      } catch {
        // The saved shell is gone; try the default one.
      }
    }
    return null
  }

  private takeRestorable(id?: string): SavedView | undefined {
    const index = id ? this.restorable.findIndex((v) => v.id === id) : 0
    if (index < 0 || index >= this.restorable.length) return undefined
    return this.restorable.splice(index, 1)[0]
  }

  private result(view: View, outcome: AttachResult['outcome'], tabs: AttachedTab[]): AttachResult {
    return { viewId: view.id, outcome, tabs, graceMinutes: this.options.graceMinutes() }
  }
}
