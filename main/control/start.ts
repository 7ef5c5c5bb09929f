import type { EventHub } from '../ipc/event-hub'
import type { Router } from '../ipc/router'
import { startControlServer, type ControlServer } from './server'

/**
 * Starts the app's control socket; a failure is reported (console and an `app:notice`), not
 * fatal: the app works without it, only the CLI and agents cannot reach it then.
 */
export function startAppControl(options: {
  router: Router
  events: EventHub
  clientGone: (clientId: string) => void
  dataDir: string
  version: string
  host: 'electron' | 'browser'
}): Promise<ControlServer | null> {
  return startControlServer(options).catch((err: unknown) => {
    const why = err instanceof Error ? err.message : String(err)
    const message = `The control socket is off, so the cmdai CLI and coding agents cannot reach this app: ${why}`
    console.error(`[cmdai] ${message}`)
    options.events.emit('app:notice', { level: 'warning', message })
    return null
  })
}
