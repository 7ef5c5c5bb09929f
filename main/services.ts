import { createAgentDomain } from './agent/domain'
import { createAppDomain } from './app/domain'
import { startAppControl } from './control/start'
import type { ControlServer } from './control/server'
import type { Domain, DomainDeps } from './domain'
import { prepareDataDir } from './config/private-fs'
import { createHistoryDomain } from './history/domain'
import { claimDataDir } from './history/lock'
import type { SecretCipher } from './library/credentials'
import { createLibraryDomain } from './library/domain'
import { EventHub } from './ipc/event-hub'
import { Router } from './ipc/router'
import { createLlmDomain } from './llm/domain'
import { createLocalEmbedder } from './llm/embedder'
import { createSafetyDomain } from './safety/domain'
import { createSettingsDomain } from './settings/domain'
import { createTerminalDomain } from './terminal/domain'

export interface ServicesOptions {
  dataDir: string
  host: DomainDeps['host']
  env?: NodeJS.ProcessEnv
  version: string
  /** Encrypts team tokens with the OS keychain (Electron's safeStorage), where available. */
  secretCipher?: SecretCipher | null
  /**
   * Listen on the control socket in the data dir (main/control), so the CLI and coding agents
   * reach this app. Default: on for the app (electron, browser), off for the CLI.
   */
  control?: boolean
}

/** The composition root: every service of the main process, shared by Electron and browser mode. */
export interface Services {
  router: Router
  events: EventHub
  dataDir: string
  /** The control socket once it listens; null when it is off or could not start. */
  control: Promise<ControlServer | null>
  clientGone(clientId: string): void
  dispose(): Promise<void>
}

export function createServices(options: ServicesOptions): Services {
  // Private (0700/0600 whatever the umask) and one owner per data directory: a second app or
  // `serve` on it throws here, naming the first, instead of running with a history that never
  // records. The history domain owns the lock from here on.
  prepareDataDir(options.dataDir)
  const dataDirLock =
    options.host === 'cli'
      ? null
      : claimDataDir(options.dataDir, options.host === 'browser' ? 'serve' : 'app')
  const router = new Router()
  const events = new EventHub()
  const deps: DomainDeps = {
    router,
    events,
    dataDir: options.dataDir,
    env: options.env ?? process.env,
    host: options.host,
  }
  // Semantic history search: only the model file's metadata is read here; the embedding model
  // loads when history first needs a vector (in the background, after the database opens).
  let embedder = createLocalEmbedder(options.dataDir, deps.env)
  const findEmbedder = () => {
    embedder ??= createLocalEmbedder(options.dataDir, deps.env)
    return embedder
  }
  const domains: Domain[] = [
    createAppDomain(deps, options.version),
    createSettingsDomain(deps),
    createSafetyDomain(deps),
    createLlmDomain(deps),
    createHistoryDomain(deps, { embedder, findEmbedder, lock: dataDirLock }),
    createLibraryDomain(deps, { cipher: options.secretCipher ?? null }),
    // After history: it records spooled agent events there, and is disposed before it.
    createAgentDomain(deps),
    // Last, so it is disposed first: stopping ends every shell's session (jobs included) at once,
    // however long the database takes to close.
    createTerminalDomain(deps),
  ]
  let disposed = false
  const clientGone = (clientId: string) => {
    for (const domain of domains) domain.onClientGone?.(clientId)
  }
  const control =
    options.host !== 'cli' && options.control !== false
      ? startAppControl({ ...deps, host: options.host, clientGone, version: options.version })
      : Promise.resolve(null)
  return {
    router,
    events,
    dataDir: options.dataDir,
    control,
    clientGone,
    async dispose() {
      if (disposed) return
      disposed = true
      // First, so that no CLI or agent request arrives while the domains shut down.
      await (await control)?.close()
      // Reverse order: later domains may depend on earlier ones.
      for (const domain of [...domains].reverse()) {
        try {
          await domain.dispose()
        } catch (err) {
          console.error(`[cmdai] disposing ${domain.name} failed:`, err)
        }
      }
      // After history, which stops asking for embeddings when it closes.
      await embedder?.dispose().catch((err: unknown) => {
        console.error('[cmdai] unloading the embedding model failed:', err)
      })
    },
  }
}
