import type { IncomingMessage } from 'node:http'
import WebSocket from 'ws'
import * as decoding from 'lib0/decoding'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { SYNC_WS_PATH, readServerState } from '../../contract/sync'
import type { Admin } from '../admin/admin'
import type { Storage } from '../storage/storage'
import { ConsoleError } from './http'

/** Reads a stored document (every update applied), as it is durable now. */
export async function loadStoredDoc(storage: Storage, room: string): Promise<Y.Doc> {
  const doc = new Y.Doc()
  const updates = await storage.loadDocument(room)
  if (updates.length > 0) Y.applyUpdate(doc, Y.mergeUpdates(updates))
  return doc
}

/** The address this server answered the request on, for a client of its own. */
export function selfSyncUrl(req: IncomingMessage): string {
  let host = req.socket.localAddress ?? '127.0.0.1'
  if (host.startsWith('::ffff:')) host = host.slice(7)
  if (host === '::' || host === '0.0.0.0') host = '127.0.0.1'
  if (host.includes(':')) host = `[${host}]`
  return `ws://${host}:${req.socket.localPort}${SYNC_WS_PATH}`
}

const WRITE_TIMEOUT_MS = 15_000

/**
 * Changes a team document through the same path every app uses: a y-websocket client of this
 * server, signed in as the admin with a short-lived token minted for it (and revoked after), so
 * the change is checked for the role, stored before anyone sees it, audited with the admin as the
 * actor (`policy.change`), and relayed live to members' apps (and to other instances).
 * Resolves once the change is durable in storage.
 */
export async function writeThroughSync(opts: {
  storage: Storage
  admin: Admin
  syncUrl: string
  team: string
  user: string
  room: string
  change(doc: Y.Doc): void
}): Promise<void> {
  const minted = await opts.admin.tokenCreate({
    team: opts.team,
    user: opts.user,
    role: 'admin',
    ttl: '5m',
    label: 'console: document change',
  })
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(opts.syncUrl, opts.room, doc, {
    params: { token: minted.token },
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
    maxBackoffTime: 500,
  })
  let refused: string | null = null
  // y-protocols' "permission denied": read it instead of the stock handler logging the URL.
  provider.messageHandlers[2] = (_encoder, decoder) => {
    decoding.readVarUint(decoder)
    refused = decoding.readVarString(decoder)
  }
  let closedWith: string | null = null
  provider.on('connection-close', (event) => {
    if (event && event.code >= 4400 && event.code < 4500)
      closedWith = `${event.code} ${event.reason}`
  })
  try {
    const deadline = Date.now() + WRITE_TIMEOUT_MS
    await until(deadline, () => provider.synced || closedWith !== null)
    if (closedWith) throw new ConsoleError(403, 'forbidden', `the server refused: ${closedWith}`)
    await until(deadline, () => readServerState(provider.awareness.getStates()) !== null)
    if (readServerState(provider.awareness.getStates())?.readOnly)
      throw new ConsoleError(403, 'forbidden', 'your role cannot write this document')
    opts.change(doc)
    const wanted = Y.encodeStateVector(doc)
    // Durable when what is stored covers this client's state.
    await until(
      deadline,
      () => refused !== null || closedWith !== null,
      async () => {
        const rows = await opts.storage.loadDocument(opts.room)
        return (
          rows.length > 0 && covers(Y.encodeStateVectorFromUpdate(Y.mergeUpdates(rows)), wanted)
        )
      },
    )
    if (refused || closedWith)
      throw new ConsoleError(
        403,
        'forbidden',
        `the server refused the change: ${refused ?? closedWith}`,
      )
  } finally {
    provider.destroy()
    doc.destroy()
    await opts.admin.tokenRevoke({ jti: minted.info.jti }).catch(() => undefined)
  }
}

function covers(stored: Uint8Array, wanted: Uint8Array): boolean {
  const have = Y.decodeStateVector(stored)
  for (const [client, clock] of Y.decodeStateVector(wanted))
    if ((have.get(client) ?? 0) < clock) return false
  return true
}

async function until(
  deadline: number,
  stop: () => boolean,
  probe?: () => Promise<boolean>,
): Promise<void> {
  for (;;) {
    if (stop()) return
    if (probe && (await probe())) return
    if (Date.now() > deadline)
      throw new ConsoleError(504, 'timeout', 'the change did not reach storage in time')
    await new Promise((r) => setTimeout(r, 25))
  }
}
