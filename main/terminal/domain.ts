import { join } from 'node:path'
import { resolveAppRoot } from '../config/paths'
import type { Domain, DomainDeps } from '../domain'
import { createSettingsStore } from '../settings/domain'
import { PtyService } from './pty-service'

export function resolveResourcesDir(env: NodeJS.ProcessEnv): string {
  return env.CMDAI_RESOURCES_DIR ?? join(resolveAppRoot(), 'resources')
}

export function createTerminalDomain(deps: DomainDeps): Domain {
  const service = new PtyService({
    events: deps.events,
    resourcesDir: resolveResourcesDir(deps.env),
    env: deps.env,
  })
  const { router } = deps
  // New tabs start with the shell and directory from settings unless the request names them.
  const settings = createSettingsStore(deps.dataDir)
  router.handle('pty:create', (args, ctx) => {
    const { terminal } = settings.read()
    return service.create(
      {
        ...args,
        shell: args.shell ?? (terminal.shell || undefined),
        cwd: args.cwd ?? (terminal.startDirectory || undefined),
      },
      ctx.clientId,
    )
  })
  router.handle('pty:write', ({ id, data }) => {
    service.write(id, data)
    return null
  })
  router.handle('pty:resize', ({ id, cols, rows }) => {
    service.resize(id, cols, rows)
    return null
  })
  router.handle('pty:kill', ({ id }) => {
    service.kill(id)
    return null
  })
  router.handle('pty:restart', ({ id, cols, rows }) => service.restart(id, cols, rows))
  router.handle('pty:dispose', ({ id }) => {
    service.dispose(id)
    return null
  })
  router.handle('pty:list', () => service.list())
  return {
    name: 'terminal',
    onClientGone: (clientId) => service.disposeOwnedBy(clientId),
    dispose: () => service.disposeAll(),
  }
}
