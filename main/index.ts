// Electron entry: app lifecycle only. Every service is plain Node and lives in main/services.ts.
import { app, BrowserWindow, dialog } from 'electron'
import { mkdirSync } from 'node:fs'
import { resolveDataDir } from './config/paths'
import { registerIpc, type IpcBridge } from './electron/ipc'
import { electronCipher } from './electron/secret-cipher'
import { createMainWindow, installMenu, isOwnUrl } from './electron/window'
import { createServices, type Services } from './services'

let services: Services | null = null
let ipc: IpcBridge | null = null

function openWindow(): void {
  const win = createMainWindow()
  ipc?.attach(win.webContents)
}

if (!app.requestSingleInstanceLock()) {
  app.quit()
} else {
  app.on('second-instance', () => {
    const [win] = BrowserWindow.getAllWindows()
    if (!win) return openWindow()
    if (win.isMinimized()) win.restore()
    win.focus()
  })

  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-attach-webview', (e) => e.preventDefault())
  })

  void app.whenReady().then(() => {
    const dataDir = resolveDataDir()
    mkdirSync(dataDir, { recursive: true, mode: 0o700 })
    try {
      services = createServices({
        dataDir,
        host: 'electron',
        version: app.getVersion(),
        secretCipher: electronCipher,
      })
    } catch (err) {
      // E.g. `cmdai serve` already uses this data directory: say who, and do not run half-working.
      dialog.showErrorBox('cmdai cannot start', err instanceof Error ? err.message : String(err))
      app.quit()
      return
    }
    ipc = registerIpc(services, isOwnUrl)
    installMenu(() => services?.events.emit('app:menu', { action: 'new-tab' }))
    openWindow()
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) openWindow()
    })
  })

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit()
  })

  // Quitting waits for the services to close: shells and their jobs are ended (SIGHUP, then
  // SIGKILL), open tabs saved for the next start and the database closed before the app exits.
  let quitting = false
  app.on('will-quit', (event) => {
    if (quitting) return
    quitting = true
    event.preventDefault()
    ipc?.dispose()
    void (services?.dispose() ?? Promise.resolve()).finally(() => app.exit(0))
  })
  // A terminal's Ctrl+C, `kill` or a closed session quits the same way.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => app.quit())
  }
}
