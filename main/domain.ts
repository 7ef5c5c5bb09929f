import type { EventHub } from './ipc/event-hub'
import type { Router } from './ipc/router'

/** What every domain gets from the composition root (`main/services.ts`). */
export interface DomainDeps {
  router: Router
  events: EventHub
  /** The resolved data directory (database, models, libraries, settings). */
  dataDir: string
  env: NodeJS.ProcessEnv
  host: 'electron' | 'browser' | 'cli'
}

/** A domain owns its resources and registers its request handlers on the router. */
export interface Domain {
  readonly name: string
  /** Called when a window or browser tab goes away: release what it owned. */
  onClientGone?(clientId: string): void
  dispose(): Promise<void> | void
}
