import { lstatSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'
import { writePrivateFile } from '../config/private-fs'
import { redactSecrets } from '../safety/secrets'

/** One tab as saved for the next start: where its shell was and what its screen showed. */
export interface SavedTab {
  shell: string
  cwd: string
  title: string | null
  cols: number
  rows: number
  /** Serialized screen and scrollback (plain: no alternate screen, no modes), secrets redacted. */
  screen: string
}

export interface SavedView {
  id: string
  savedAt: number
  tabs: SavedTab[]
}

/** Bounds that keep the file, and what reading it costs, small. */
export const SAVED_LIMITS = {
  maxTabChars: 1_000_000,
  maxFileBytes: 16 * 1024 * 1024,
  maxViews: 16,
  maxTabsPerView: 32,
  /** Views not claimed by any page for this long are dropped. */
  maxAgeMs: 7 * 24 * 3600 * 1000,
}

const tabSchema = z
  .object({
    shell: z.string().min(1).max(4096),
    cwd: z.string().min(1).max(4096),
    title: z.string().max(200).nullable(),
    cols: z.number().int().min(2).max(1000),
    rows: z.number().int().min(1).max(500),
    screen: z.string().max(SAVED_LIMITS.maxTabChars),
  })
  .strict()

const fileSchema = z
  .object({
    version: z.literal(1),
    views: z
      .array(
        z
          .object({
            id: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/),
            savedAt: z.number().int().nonnegative(),
            tabs: z.array(tabSchema).max(SAVED_LIMITS.maxTabsPerView),
          })
          .strict(),
      )
      .max(SAVED_LIMITS.maxViews),
  })
  .strict()

/**
 * `<dataDir>/terminal/tabs.json`: the tabs of the last run, so that they come back on the next
 * start (shell, cwd, title, scrollback). One reader and writer for the file. The folder is 0700
 * and the file 0600 whatever the umask; writes are atomic (write, fsync, rename). A file that
 * cannot be parsed is moved aside (never overwritten) and reported; one that cannot be read at
 * all (permissions) is left alone and nothing is saved over it.
 */
export class SavedTabsFile {
  readonly dir: string
  readonly path: string
  private writable = true

  constructor(
    dataDir: string,
    /** Reports a problem the user should hear about (the app's notice). */
    private readonly notice: (message: string) => void = () => undefined,
  ) {
    this.dir = join(dataDir, 'terminal')
    this.path = join(this.dir, 'tabs.json')
  }

  /** The saved views, newest first; [] when there is no file or it cannot be used. */
  load(now = Date.now()): SavedView[] {
    let raw: string
    try {
      const stat = lstatSync(this.path)
      if (!stat.isFile()) {
        this.refuse(`${this.path} is not a regular file; saved tabs are off until it is removed`)
        return []
      }
      if (stat.size > SAVED_LIMITS.maxFileBytes) {
        this.moveAside('it is larger than any file cmdai writes')
        return []
      }
      raw = readFileSync(this.path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      this.refuse(`Could not read saved tabs (${this.path}): ${reason(err)}; they are not restored`)
      return []
    }
    let parsed: z.infer<typeof fileSchema>
    try {
      parsed = fileSchema.parse(JSON.parse(raw))
    } catch {
      this.moveAside('it is not a tabs file cmdai can read')
      return []
    }
    return parsed.views
      .filter((v) => now - v.savedAt <= SAVED_LIMITS.maxAgeMs && v.tabs.length > 0)
      .sort((a, b) => b.savedAt - a.savedAt)
  }

  /** Replaces the file with these views (newest first); bounded in count and size. */
  save(views: SavedView[]): void {
    if (!this.writable) return
    const kept: SavedView[] = []
    let size = 0
    for (const view of views.slice(0, SAVED_LIMITS.maxViews)) {
      const tabs = view.tabs.slice(0, SAVED_LIMITS.maxTabsPerView).map(boundTab)
      const bytes = tabs.reduce((n, t) => n + t.screen.length * 3 + 8192, 0)
      if (size + bytes > SAVED_LIMITS.maxFileBytes) break
      size += bytes
      if (tabs.length > 0) kept.push({ ...view, tabs })
    }
    if (kept.length === 0) return this.clear()
    const body = JSON.stringify({ version: 1, views: kept })
    try {
      writePrivateFile(this.path, body)
    } catch (err) {
      this.notice(`Could not save the open tabs to ${this.path}: ${reason(err)}`)
    }
  }

  /** Forgets the saved tabs (restoring is off, or nothing is open). */
  clear(): void {
    if (!this.writable) return
    try {
      rmSync(this.path, { force: true })
    } catch (err) {
      this.notice(`Could not remove ${this.path}: ${reason(err)}`)
    }
  }

  private refuse(message: string): void {
    this.writable = false
    this.notice(message)
  }

  private moveAside(why: string): void {
    const aside = `${this.path}.unreadable-${Date.now()}`
    try {
      renameSync(this.path, aside)
      this.notice(`Saved tabs were not restored: ${why}. It was kept as ${aside}.`)
    } catch (err) {
      this.refuse(
        `Saved tabs were not restored (${why}) and could not be moved aside: ${reason(err)}`,
      )
    }
  }
}

/** Redacts secrets and keeps a tab's screen within the limit (the newest lines are kept). */
function boundTab(tab: SavedTab): SavedTab {
  let screen = redactSecrets(tab.screen).text
  if (screen.length > SAVED_LIMITS.maxTabChars) {
    const cut = screen.indexOf('\n', screen.length - SAVED_LIMITS.maxTabChars)
    screen = cut === -1 ? '' : screen.slice(cut + 1)
  }
  return { ...tab, title: tab.title?.slice(0, 200) ?? null, screen }
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
