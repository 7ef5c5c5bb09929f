import { ipcMain, type WebContents } from 'electron'
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL } from '../../contract/transport'
import type { Services } from '../services'

export interface IpcBridge {
  /** Start sending events to a window's contents; forgets it (and its terminals) when destroyed. */
  attach(contents: WebContents): void
  dispose(): void
}

/**
 * Electron transport of the contract: one invoke channel into the router, one event channel out.
 * Requests are accepted only from the main frame of our own windows, loaded from our own URL.
 */
export function registerIpc(services: Services, isOwnUrl: (url: string) => boolean): IpcBridge {
  const windows = new Set<WebContents>()
  const clientId = (contents: WebContents) => `window-${contents.id}`

  ipcMain.handle(IPC_INVOKE_CHANNEL, (event, channel: unknown, args: unknown) => {
    const frame = event.senderFrame
    if (
      !windows.has(event.sender) ||
      !frame ||
      frame !== event.sender.mainFrame ||
      !isOwnUrl(frame.url)
    ) {
      return { ok: false, error: { code: 'forbidden', message: 'Request from an untrusted frame' } }
    }
    return services.router.dispatch(channel, args, { clientId: clientId(event.sender) })
  })

  // Events go to their audience only (a terminal's output to the window that shows it).
  const unsubscribe = services.events.subscribe((name, payload, audience) => {
    if (audience === null) return
    for (const contents of windows) {
      if (audience !== undefined && audience !== clientId(contents)) continue
      if (!contents.isDestroyed()) contents.send(IPC_EVENT_CHANNEL, name, payload)
    }
  })

  return {
    attach(contents) {
      windows.add(contents)
      const id = clientId(contents)
      contents.once('destroyed', () => {
        windows.delete(contents)
        services.clientGone(id)
      })
    },
    dispose() {
      unsubscribe()
      ipcMain.removeHandler(IPC_INVOKE_CHANNEL)
    },
  }
}
