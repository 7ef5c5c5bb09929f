import * as decoding from 'lib0/decoding'
import * as authProtocol from 'y-protocols/auth'
import * as encoding from 'lib0/encoding'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'

/** y-websocket message types (the stock client's numbering). */
export const MESSAGE = { sync: 0, awareness: 1, auth: 2, queryAwareness: 3 } as const

export type IncomingMessage =
  | { type: 'sync-step1'; stateVector: Uint8Array }
  | { type: 'update'; update: Uint8Array; step2: boolean }
  | { type: 'awareness'; entries: AwarenessEntry[] }
  | { type: 'query-awareness' }
  | { type: 'ignored' }

export interface AwarenessEntry {
  clientId: number
  clock: number
  /** The state as JSON text (`null` when the client left). */
  json: string
}

export class MalformedMessage extends Error {
  override name = 'MalformedMessage'
}

/**
 * Decodes one client message completely before anything is applied: a message that does not
 * decode (truncated, garbage, an update whose structs or delete set do not parse) is refused as a
 * whole, so it can never half-apply to a document.
 */
export function decodeMessage(data: Uint8Array): IncomingMessage {
  try {
    const decoder = decoding.createDecoder(data)
    const type = decoding.readVarUint(decoder)
    switch (type) {
      case MESSAGE.sync: {
        const sub = decoding.readVarUint(decoder)
        const payload = decoding.readVarUint8Array(decoder)
        if (sub === syncProtocol.messageYjsSyncStep1) {
          // A state vector: count, then (client, clock) pairs.
          const sv = decoding.createDecoder(payload)
          const n = decoding.readVarUint(sv)
          for (let i = 0; i < n; i++) {
            decoding.readVarUint(sv)
            decoding.readVarUint(sv)
          }
          return { type: 'sync-step1', stateVector: payload }
        }
        if (sub === syncProtocol.messageYjsSyncStep2 || sub === syncProtocol.messageYjsUpdate) {
          Y.decodeUpdate(payload)
          return {
            type: 'update',
            update: payload,
            step2: sub === syncProtocol.messageYjsSyncStep2,
          }
        }
        throw new MalformedMessage(`unknown sync message ${sub}`)
      }
      case MESSAGE.awareness: {
        const payload = decoding.readVarUint8Array(decoder)
        const d = decoding.createDecoder(payload)
        const n = decoding.readVarUint(d)
        const entries: AwarenessEntry[] = []
        for (let i = 0; i < n; i++) {
          const clientId = decoding.readVarUint(d)
          const clock = decoding.readVarUint(d)
          const json = decoding.readVarString(d)
          entries.push({ clientId, clock, json })
        }
        return { type: 'awareness', entries }
      }
      case MESSAGE.queryAwareness:
        return { type: 'query-awareness' }
      case MESSAGE.auth:
        return { type: 'ignored' }
      default:
        throw new MalformedMessage(`unknown message type ${type}`)
    }
  } catch (err) {
    if (err instanceof MalformedMessage) throw err
    throw new MalformedMessage('message does not decode')
  }
}

export function encodeSyncStep1(doc: Y.Doc): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, MESSAGE.sync)
  syncProtocol.writeSyncStep1(e, doc)
  return encoding.toUint8Array(e)
}

export function encodeSyncStep2(doc: Y.Doc, stateVector: Uint8Array): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, MESSAGE.sync)
  syncProtocol.writeSyncStep2(e, doc, stateVector)
  return encoding.toUint8Array(e)
}

export function encodeUpdate(update: Uint8Array): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, MESSAGE.sync)
  syncProtocol.writeUpdate(e, update)
  return encoding.toUint8Array(e)
}

/** Wraps an awareness update (as `encodeAwarenessUpdate` makes it) into a message. */
export function encodeAwarenessMessage(update: Uint8Array): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, MESSAGE.awareness)
  encoding.writeVarUint8Array(e, update)
  return encoding.toUint8Array(e)
}

/** An awareness update from entries (the inverse of the decoder above). */
export function encodeAwarenessEntries(entries: AwarenessEntry[]): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, entries.length)
  for (const entry of entries) {
    encoding.writeVarUint(e, entry.clientId)
    encoding.writeVarUint(e, entry.clock)
    encoding.writeVarString(e, entry.json)
  }
  return encoding.toUint8Array(e)
}

/** The y-protocols auth "permission denied" message (a refused write). */
export function encodePermissionDenied(reason: string): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, MESSAGE.auth)
  authProtocol.writePermissionDenied(e, reason)
  return encoding.toUint8Array(e)
}
