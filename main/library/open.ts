import { readFileSync } from 'node:fs'
import { userInfo } from 'node:os'
import { join } from 'node:path'
import type { Risk } from '../../contract/safety'
import { patternSchema, type Pattern } from '../../contract/sync'
import { resolveAppRoot } from '../config/paths'
import { CredentialStore, type SecretCipher } from './credentials'
import { parseLibraryFile } from './formats'
import { LibraryHub, type HubEvents } from './hub'
import { SessionKeeper } from './sso-keeper'
import { LibraryStore } from './store'

/** The library folder in the data dir: its database, lock and credentials. */
export function libraryDir(dataDir: string): string {
  return join(dataDir, 'library')
}

/** The starter library shipped in `resources/library/starter.yaml`. */
export function starterFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(
    env.CMDAI_RESOURCES_DIR ?? join(resolveAppRoot(), 'resources'),
    'library',
    'starter.yaml',
  )
}

/** Reads the starter library; an unreadable file gives an empty one (and says so). */
export function loadStarter(file = starterFile()): Pattern[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    console.error(`[cmdai] the starter library ${file} cannot be read:`, (err as Error).message)
    return []
  }
  const parsed = parseLibraryFile(text, 'yaml')
  if (parsed.errors.length) console.error('[cmdai] starter library:', parsed.errors.join('; '))
  return parsed.patterns.map((p, i) =>
    patternSchema.parse({
      ...p,
      id: p.id ?? `starter-${i}`,
      author: 'cmdai',
      createdAt: 0,
      updatedAt: 0,
    }),
  )
}

export interface Libraries {
  store: LibraryStore
  hub: LibraryHub
  credentials: CredentialStore
  /** Single sign-on sessions, refreshed before they expire (the app), or on demand (the CLI). */
  sessions: SessionKeeper
  /** A pattern's template risk, cached by its command and tags until either changes. */
  risk(library: string, pattern: Pattern, compute: () => Risk): Risk
  close(): Promise<void>
}

export interface OpenOptions {
  dataDir: string
  owner: 'app' | 'cli'
  cipher?: SecretCipher | null
  connect: boolean
  events?: HubEvents
  maxBackoffMs?: number
  starter?: Pattern[]
}

const NO_EVENTS: HubEvents = {
  update() {},
  info() {},
  removed() {},
  presence() {},
  conflicts() {},
}

export async function openLibraries(options: OpenOptions): Promise<Libraries> {
  const dir = libraryDir(options.dataDir)
  const store = await LibraryStore.open(dir, options.owner)
  const credentials = new CredentialStore(dir, options.cipher ?? null)
  try {
    const hub = await LibraryHub.open({
      store,
      credentials,
      events: options.events ?? NO_EVENTS,
      localUser: safeUser(),
      starter: options.starter ?? loadStarter(),
      connect: options.connect,
      maxBackoffMs: options.maxBackoffMs,
    })
    const risks = new Map<string, Risk>()
    const sessions = new SessionKeeper(credentials, {
      token: (server, team) => hub.tokenChanged(server, team),
      lost: (server, team, reason) => hub.signedOut(server, team, reason),
    })
    if (options.connect) sessions.start()
    return {
      store,
      hub,
      credentials,
      sessions,
      risk(library, pattern, compute) {
        const key = `${library}\u0000${pattern.id}\u0000${pattern.command}\u0000${pattern.tags.join(',')}`
        let r = risks.get(key)
        if (!r) {
          r = compute()
          if (risks.size > 20_000) risks.clear()
          risks.set(key, r)
        }
        return r
      },
      async close() {
        sessions.stop()
        await hub.close()
        await store.close()
      },
    }
  } catch (err) {
    await store.close().catch(() => {})
    throw err
  }
}

function safeUser(): string {
  try {
    return userInfo().username || 'me'
  } catch {
    return 'me'
  }
}
