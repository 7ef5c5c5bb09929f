import { z } from 'zod'

/** Requests of the `app` domain: facts about the running app. */
export const appRequests = {
  /** Version, platform and how the UI is hosted. */
  'app:info': z.object({}).strict(),
} as const

export interface AppInfo {
  name: string
  version: string
  platform: string
  /** `electron` in the desktop app, `browser` when served by `cmdai serve`. */
  host: 'electron' | 'browser'
  dataDir: string
  homeDir: string
  defaultShell: string
  /** Physical memory in GiB, to say which models fit. */
  totalMemoryGb: number
  cpuCount: number
}

export interface AppResults {
  'app:info': AppInfo
}

export interface AppEvents {
  /** A non-fatal problem a service wants the user to see. */
  'app:notice': { level: 'info' | 'warning' | 'error'; message: string }
  /** A menu item or global shortcut that the UI should act on. */
  'app:menu': { action: 'new-tab' | 'close-tab' }
}
