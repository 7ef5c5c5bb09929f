import { join } from 'node:path'
import type { Settings } from '../../contract'
import { resolveAppRoot } from '../config/paths'
import type { Domain, DomainDeps } from '../domain'
import { createSettingsStore } from '../settings/domain'
import { PtyService, type PtyServiceOptions } from './pty-service'
import { SavedTabsFile } from './saved-tabs'
import { ViewRegistry } from './views'

export function resolveResourcesDir(env: NodeJS.ProcessEnv): string {
  return env.CMDAI_RESOURCES_DIR ?? join(resolveAppRoot(), 'resources')
}

/** How often open tabs are saved while their screens change (and once more on close). */
const SAVE_EVERY_MS = 10_000

export interface TerminalDomainOptions {
  /** Overrides for tests (watermarks, hang-up grace). */
  pty?: Partial<PtyServiceOptions>
}

export function createTerminalDomain(
  deps: DomainDeps,
  options: TerminalDomainOptions = {},
): Domain {
  const settingsStore = createSettingsStore(deps.dataDir)
  // A settings file that cannot be read must not stop the terminal: defaults then.
  const terminalSettings = (): Settings['terminal'] | null => {
    try {
      return settingsStore.read().terminal
    } catch {
      return null
    }
  }
  const scrollback = () => terminalSettings()?.scrollback ?? 10_000
  const restoreOn = () => terminalSettings()?.restoreTabs ?? true
  const graceMinutes = () => terminalSettings()?.reconnectGraceMinutes ?? 10

  const notice = (message: string) => deps.events.emit('app:notice', { level: 'warning', message })
  const saved = new SavedTabsFile(deps.dataDir, notice)
  let views: ViewRegistry | null = null
  const service = new PtyService({
    events: deps.events,
    resourcesDir: resolveResourcesDir(deps.env),
    env: deps.env,
    audience: (owner) => views?.audience(owner) ?? null,
    scrollback,
    ...options.pty,
  })

  // Saving: at most every SAVE_EVERY_MS while output or tabs change, and once when closing.
  let dirty = false
  let closing = false
  const save = () => {
    if (!views || closing) return
    dirty = false
    if (restoreOn()) saved.save(views.snapshotForSave())
    else saved.clear()
  }
  const saveTimer = setInterval(() => dirty && save(), SAVE_EVERY_MS)
  saveTimer.unref()

  views = new ViewRegistry({
    service,
    events: deps.events,
    graceMs: () => graceMinutes() * 60_000,
    graceMinutes,
    restorable: restoreOn() ? saved.load() : [],
    changed: () => {
      dirty = true
    },
    scrollback,
  })
  const registry = views

  const stopWatching = deps.events.subscribe((event, payload) => {
    if (event === 'pty:data' || event === 'pty:cwd' || event === 'pty:title') dirty = true
    else if (event === 'settings:changed') {
      const next = (payload as { settings: Settings }).settings.terminal
      service.setScrollback(next.scrollback)
      if (!next.restoreTabs) saved.clear()
    }
  })

  const { router } = deps
  router.handle('pty:attach', (args, ctx) => registry.attach(ctx.clientId, args))
  // New tabs start with the shell and directory from settings unless the request names them.
  router.handle('pty:create', (args, ctx) => {
    const terminal = terminalSettings()
    const info = service.create(
      {
        ...args,
        shell: args.shell ?? (terminal?.shell || undefined),
        cwd: args.cwd ?? (terminal?.startDirectory || undefined),
        acknowledged: true,
      },
      registry.viewOf(ctx.clientId).id,
    )
    registry.addTab(ctx.clientId, info.id)
    return info
  })
  const owned = <T>(clientId: string, id: string, run: () => T): T => {
    registry.checkOwner(clientId, id)
    return run()
  }
  router.handle('pty:write', ({ id, data }, ctx) =>
    owned(ctx.clientId, id, () => {
      service.write(id, data)
      return null
    }),
  )
  router.handle('pty:ack', ({ id, seq }, ctx) =>
    owned(ctx.clientId, id, () => {
      service.ack(id, seq)
      return null
    }),
  )
  router.handle('pty:resize', ({ id, cols, rows }, ctx) =>
    owned(ctx.clientId, id, () => {
      service.resize(id, cols, rows)
      return null
    }),
  )
  router.handle('pty:kill', ({ id }, ctx) =>
    owned(ctx.clientId, id, () => {
      service.kill(id)
      return null
    }),
  )
  router.handle('pty:restart', ({ id, cols, rows }, ctx) =>
    owned(ctx.clientId, id, () => service.restart(id, cols, rows)),
  )
  router.handle('pty:dispose', ({ id }, ctx) =>
    owned(ctx.clientId, id, () => {
      void service.dispose(id)
      registry.removeTab(id)
      return null
    }),
  )
  router.handle('pty:list', () => service.list())

  return {
    name: 'terminal',
    onClientGone: (clientId) => registry.clientGone(clientId),
    async dispose() {
      clearInterval(saveTimer)
      stopWatching()
      registry.dispose()
      // Save before the shells are ended, so that their exit is not what the next start sees.
      save()
      closing = true
      await service.disposeAll()
    },
  }
}
