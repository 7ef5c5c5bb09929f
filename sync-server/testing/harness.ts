import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as decoding from 'lib0/decoding'
import pino from 'pino'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { SYNC_WS_PATH, readLibrary, type Role } from '../../contract/sync'
import { createAdmin, type Admin } from '../admin/admin'
import type { AuditLog } from '../audit/audit-log'
import { FileAuditLog } from '../audit/file-log'
import { KeyRing } from '../auth/keys'
import type { Limits, Timings } from '../config'
import type { Relay } from '../relay/relay'
import { createSyncServer, type SyncServer, type SyncServerOptions } from '../server'
import { openEmbeddedStorage } from '../storage/data-dir'
import { dataPaths } from '../storage/paths'
import type { Storage } from '../storage/storage'

/**
 * Test helpers: real servers on port 0 over real storage, and the stock y-websocket client.
 * A PGlite data dir is initialised once per test file (initdb takes seconds) and copied for each
 * server.
 */
export function tempRoot(prefix: string): { root: string; cleanup(): void } {
  const root = mkdtempSync(join(tmpdir(), prefix))
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) }
}

let template: Promise<string> | null = null

/** A fresh embedded data dir (a copy of a migrated, empty one). */
export async function freshDataDir(root: string, name: string): Promise<string> {
  template ??= (async () => {
    const dir = join(root, '_template')
    const storage = await openEmbeddedStorage(dir)
    await storage.close()
    return dir
  })()
  const dir = join(root, name)
  if (existsSync(dir)) throw new Error(`${dir} exists`)
  cpSync(await template, dir, { recursive: true })
  return dir
}

export const silentLogger = () => pino({ level: process.env.CMDAI_SYNC_TEST_LOG ?? 'silent' })

export interface TestServer {
  url: string
  port: number
  server: SyncServer
  storage: Storage
  audit: AuditLog
  keys: KeyRing
  admin: Admin
  dir: string | null
  /** Mints a token (creating team and member as needed). */
  token(team: string, user: string, role: Role, ttl?: string): Promise<string>
  close(): Promise<void>
}

export interface TestServerOptions {
  dir?: string
  storage?: Storage
  audit?: AuditLog
  relay?: Relay | null
  limits?: Partial<Limits>
  timings?: Partial<Timings>
  /** Wrap the storage (failure injection). */
  wrapStorage?: (s: Storage) => Storage
  wrapAudit?: (a: AuditLog) => AuditLog
  /** HTTP extensions (approvals, the admin console). */
  extensions?: SyncServerOptions['extensions']
}

/** Starts a server on 127.0.0.1:0 over an embedded data dir (or the storage given). */
export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  const rawStorage = options.storage ?? (await openEmbeddedStorage(options.dir!))
  const storage = options.wrapStorage ? options.wrapStorage(rawStorage) : rawStorage
  const rawAudit = options.audit ?? new FileAuditLog({ dir: dataPaths(options.dir!).audit })
  const audit = options.wrapAudit ? options.wrapAudit(rawAudit) : rawAudit
  const keys = await KeyRing.open(storage)
  const server = createSyncServer({
    storage,
    keys,
    audit,
    relay: options.relay ?? null,
    logger: silentLogger(),
    limits: options.limits,
    timings: { revocationPollMs: 300, ...options.timings },
    ...(options.extensions ? { extensions: options.extensions } : {}),
  })
  const { port } = await server.listen(0)
  const admin = createAdmin(
    {
      storage,
      keys,
      audit,
      commit: (e) => server.commit(e),
      afterDirectoryChange: () => server.recheckConnections(),
    },
    'test-admin',
  )
  return {
    url: `ws://127.0.0.1:${port}${SYNC_WS_PATH}`,
    port,
    server,
    storage,
    audit,
    keys,
    admin,
    dir: options.dir ?? null,
    token: async (team, user, role, ttl = '1d') =>
      (await admin.tokenCreate({ team, user, role, ttl })).token,
    async close() {
      await server.close()
      if (!options.audit) await rawAudit.close()
      if (!options.storage) await rawStorage.close()
    },
  }
}

export interface TestClient {
  doc: Y.Doc
  provider: WebsocketProvider
  /** Resolves with the close code and reason of a permanent (44xx) close. */
  closed: Promise<{ code: number; reason: string }>
  /** Every close the client saw (code, reason). */
  closes: Array<{ code: number; reason: string }>
  /** "Permission denied" messages received (refused writes). */
  denied: string[]
  /** Waits until the provider reports synced. */
  synced(ms?: number): Promise<void>
  destroy(): void
}

/** The stock y-websocket client, as the app uses it (token as a URL parameter, `ws` under Node). */
export function connectClient(
  url: string,
  room: string,
  token: string,
  options: { doc?: Y.Doc; connect?: boolean } = {},
): TestClient {
  const doc = options.doc ?? new Y.Doc()
  const provider = new WebsocketProvider(url, room, doc, {
    params: { token },
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
    connect: options.connect ?? true,
    maxBackoffTime: 300,
  })
  const closes: Array<{ code: number; reason: string }> = []
  const denied: string[] = []
  // As the app does: read the refusal instead of letting the stock client log the URL (token).
  provider.messageHandlers[2] = (_encoder, decoder) => {
    decoding.readVarUint(decoder)
    denied.push(decoding.readVarString(decoder))
  }
  provider.on('connection-close', (event) => {
    if (event) closes.push({ code: event.code, reason: event.reason })
  })
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    provider.on('closed', (e) => resolve({ code: e.code, reason: e.reason }))
  })
  return {
    doc,
    provider,
    closed,
    closes,
    denied,
    synced: (ms = 20_000) => waitUntil(`${room} synced`, () => provider.synced, ms),
    destroy: () => {
      provider.destroy()
      doc.destroy()
    },
  }
}

/** Polls until `probe` is true (real servers and sockets: no fake timers). */
export async function waitUntil(what: string, probe: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Clients made through `connect` are destroyed together (in `afterAll`). */
export function clientPool() {
  const list: TestClient[] = []
  return {
    connect: (...args: Parameters<typeof connectClient>): TestClient => {
      const c = connectClient(...args)
      list.push(c)
      return c
    },
    add: (c: TestClient) => list.push(c),
    destroyAll: () => {
      for (const c of list.splice(0)) c.destroy()
    },
  }
}

/** A valid pattern with defaults, `extra` overriding. */
export const testPattern = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  title: `Pattern ${id}`,
  command: `echo ${id}`,
  author: 'ana',
  createdAt: 1,
  updatedAt: 1,
  ...extra,
})

/** The ids of the valid patterns in a client's document, sorted. */
export function patternIds(c: TestClient): string[] {
  const lib = readLibrary(c.doc)
  return lib.ok ? lib.value.patterns.map((p) => p.id).sort() : []
}
