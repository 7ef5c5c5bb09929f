import type { Events } from '../../../contract'
import type { Api } from '../api/client'

type PtyEvent = 'pty:data' | 'pty:exit' | 'pty:cwd' | 'pty:prompt' | 'pty:busy' | 'pty:title'

export interface PtyHandlers {
  data(payload: Events['pty:data']): void
  exit(payload: Events['pty:exit']): void
  cwd(payload: Events['pty:cwd']): void
  prompt(): void
  busy(): void
  title(title: string): void
}

type Queued = { [E in PtyEvent]: { event: E; payload: Events[E] } }[PtyEvent]

/** Output kept for a terminal no pane has claimed yet; the server stops sending long before. */
const MAX_QUEUED_CHARS = 16 * 1024 * 1024

/**
 * Routes each terminal's events to the pane that shows it. Events for a terminal that no pane
 * has claimed yet (a tab that `pty:attach` or `pty:create` just handed back, whose pane has not
 * mounted) are kept and delivered, in order, when the pane claims it.
 */
export class PtyStreams {
  private readonly handlers = new Map<string, PtyHandlers>()
  private readonly queued = new Map<string, Queued[]>()
  private queuedChars = 0
  private readonly offs: Array<() => void>

  constructor(api: Api) {
    const route =
      <E extends PtyEvent>(event: E) =>
      (payload: Events[E]) =>
        this.deliver({ event, payload } as Queued)
    this.offs = [
      api.on('pty:data', route('pty:data')),
      api.on('pty:exit', route('pty:exit')),
      api.on('pty:cwd', route('pty:cwd')),
      api.on('pty:prompt', route('pty:prompt')),
      api.on('pty:busy', route('pty:busy')),
      api.on('pty:title', route('pty:title')),
    ]
  }

  /** Starts delivering a terminal's events (queued ones first); returns the release function. */
  claim(id: string, handlers: PtyHandlers): () => void {
    this.handlers.set(id, handlers)
    const queued = this.queued.get(id) ?? []
    this.queued.delete(id)
    for (const item of queued) {
      if (item.event === 'pty:data') this.queuedChars -= item.payload.data.length
      this.dispatch(handlers, item)
    }
    return () => {
      if (this.handlers.get(id) === handlers) this.handlers.delete(id)
    }
  }

  /** Forget what was kept for terminals that no pane will show (a new attach replaced them). */
  dropUnclaimed(): void {
    this.queued.clear()
    this.queuedChars = 0
  }

  dispose(): void {
    for (const off of this.offs) off()
    this.handlers.clear()
    this.dropUnclaimed()
  }

  private deliver(item: Queued): void {
    const id = item.payload.id
    const handlers = this.handlers.get(id)
    if (handlers) return this.dispatch(handlers, item)
    if (item.event === 'pty:data') {
      if (this.queuedChars + item.payload.data.length > MAX_QUEUED_CHARS) return
      this.queuedChars += item.payload.data.length
    }
    const list = this.queued.get(id) ?? []
    list.push(item)
    this.queued.set(id, list)
  }

  private dispatch(handlers: PtyHandlers, item: Queued): void {
    switch (item.event) {
      case 'pty:data':
        return handlers.data(item.payload)
      case 'pty:exit':
        return handlers.exit(item.payload)
      case 'pty:cwd':
        return handlers.cwd(item.payload)
      case 'pty:prompt':
        return handlers.prompt()
      case 'pty:busy':
        return handlers.busy()
      case 'pty:title':
        return handlers.title(item.payload.title)
    }
  }
}
