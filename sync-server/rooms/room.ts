import * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'
import {
  AWARENESS_USER_FIELD,
  CLOSE,
  READ_ONLY_REASON,
  SERVER_AWARENESS_CLIENT_ID,
  isFromTheFuture,
  readPolicyDocument,
  type RoomRef,
} from '../../contract/sync'
import type { Policy } from '../../contract/policy'
import type { AuditDraft } from '../audit/chain'
import type { Connection } from './connection'
import {
  encodeAwarenessEntries,
  encodeAwarenessMessage,
  encodePermissionDenied,
  encodeSyncStep1,
  encodeSyncStep2,
  encodeUpdate,
  type AwarenessEntry,
} from './protocol'
import type { RoomHost } from './room-host'
import {
  describeLibraryChange,
  describePolicyChange,
  newCapture,
  watchDocument,
  type ChangeCapture,
} from './summary'

/** Origin of updates that are already durable (loaded, or relayed from another instance). */
export const DURABLE_ORIGIN = Symbol('durable')

export class RoomLoadError extends Error {
  override name = 'RoomLoadError'
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message)
  }
}

/**
 * One document in memory with its connections. Client updates are applied at once (to learn what
 * they change), queued for a group commit with their audit records, and relayed to the other
 * clients (and other instances) only once committed. A sync step 1 is answered only after
 * everything applied before it is durable, so no client ever receives state that could be lost.
 */
export class Room {
  readonly doc = new Y.Doc()
  readonly awareness = new awarenessProtocol.Awareness(this.doc)
  readonly conns = new Set<Connection>()
  status: 'loading' | 'ready' | 'failed' | 'closed' = 'loading'
  emptySince = Date.now()
  storedRows = 0
  private policy: Policy | null = null
  private capturing: { origin: Connection; cap: ChangeCapture; payload: Uint8Array | null } | null =
    null
  /** Serialises client operations so a step 1 barrier holds back later updates. */
  private intake: Promise<void> = Promise.resolve()
  private lastDurable: Promise<void> = Promise.resolve()
  private compacting = false

  constructor(
    readonly ref: RoomRef,
    private readonly host: RoomHost,
  ) {
    this.awareness.setLocalState(null)
    watchDocument(this.doc, () => this.capturing?.cap ?? null)
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (this.capturing && origin === this.capturing.origin) this.capturing.payload = update
      else if (origin === DURABLE_ORIGIN && this.status === 'ready')
        this.broadcast(encodeUpdate(update), null)
    })
    this.awareness.on('update', this.onAwarenessUpdate)
  }

  /** Loads every stored update; a failure leaves storage untouched and the room unusable. */
  async load(): Promise<void> {
    const started = performance.now()
    let updates: Uint8Array[]
    try {
      updates = await this.host.storage.loadDocument(this.ref.name)
      Y.transact(this.doc, () => {
        for (const u of updates) Y.applyUpdate(this.doc, u, DURABLE_ORIGIN)
      })
    } catch (err) {
      this.status = 'failed'
      throw new RoomLoadError(
        CLOSE.storageUnavailable,
        `could not load ${this.ref.name}: ${(err as Error).message}`,
      )
    }
    this.storedRows = updates.length
    if (isFromTheFuture(this.doc)) {
      this.status = 'failed'
      throw new RoomLoadError(
        CLOSE.unsupportedSchema,
        'document written by a newer cmdai: update the server',
      )
    }
    if (this.ref.kind === 'policy') {
      const read = readPolicyDocument(this.doc)
      this.policy = read.ok ? read.value.policy : null
    }
    this.host.metrics.loadSeconds.observe((performance.now() - started) / 1000)
    this.status = 'ready'
  }

  /** Applies updates that are already stored (from another instance, or a resync). */
  applyDurable(update: Uint8Array): void {
    if (this.status !== 'ready') return
    Y.applyUpdate(this.doc, update, DURABLE_ORIGIN)
    this.refreshPolicy()
  }

  join(conn: Connection): void {
    this.conns.add(conn)
    conn.send(encodeSyncStep1(this.doc))
    conn.sendServerState()
    const states = [...this.awareness.getStates().keys()]
    if (states.length > 0)
      conn.send(
        encodeAwarenessMessage(awarenessProtocol.encodeAwarenessUpdate(this.awareness, states)),
      )
  }

  leave(conn: Connection): void {
    if (!this.conns.delete(conn)) return
    if (conn.awarenessIds.size > 0)
      awarenessProtocol.removeAwarenessStates(this.awareness, [...conn.awarenessIds], null)
    if (this.conns.size === 0) this.emptySince = Date.now()
  }

  /** Answers a client's sync step 1 once everything applied so far is durable. */
  syncStep1(conn: Connection, stateVector: Uint8Array): void {
    this.enqueue(async () => {
      await this.lastDurable.catch(() => {})
      if (this.status === 'ready') conn.send(encodeSyncStep2(this.doc, stateVector))
    })
  }

  clientUpdate(conn: Connection, update: Uint8Array): void {
    this.enqueue(() => this.applyClientUpdate(conn, update))
  }

  clientAwareness(conn: Connection, entries: AwarenessEntry[]): void {
    const accepted: AwarenessEntry[] = []
    for (const entry of entries) {
      // Nobody may speak as the server, or for a client another connection controls.
      if (entry.clientId === SERVER_AWARENESS_CLIENT_ID) continue
      if (!conn.awarenessIds.has(entry.clientId) && this.controlledByOther(conn, entry.clientId))
        continue
      let state: unknown
      try {
        state = JSON.parse(entry.json)
      } catch {
        conn.close(CLOSE.malformed, 'awareness state is not JSON')
        return
      }
      if (state !== null) {
        if (typeof state !== 'object' || Array.isArray(state)) {
          conn.close(CLOSE.malformed, 'awareness state is not an object')
          return
        }
        const { user, role } = conn.principal
        state = {
          ...(state as Record<string, unknown>),
          [AWARENESS_USER_FIELD]: { id: user, role },
        }
      }
      accepted.push({ ...entry, json: JSON.stringify(state) })
    }
    if (accepted.length === 0) return
    awarenessProtocol.applyAwarenessUpdate(this.awareness, encodeAwarenessEntries(accepted), conn)
  }

  queryAwareness(conn: Connection): void {
    const ids = [...this.awareness.getStates().keys()]
    if (ids.length > 0)
      conn.send(
        encodeAwarenessMessage(awarenessProtocol.encodeAwarenessUpdate(this.awareness, ids)),
      )
  }

  /** Applies awareness from another instance (already filtered there). */
  relayedAwareness(update: Uint8Array): void {
    if (this.status === 'ready')
      awarenessProtocol.applyAwarenessUpdate(this.awareness, update, DURABLE_ORIGIN)
  }

  /** Resolves when everything applied so far is committed. */
  durable(): Promise<void> {
    return this.lastDurable.catch(() => {})
  }

  /** Merges the stored rows when there are many (background; another instance may write meanwhile). */
  async compact(): Promise<void> {
    if (this.compacting) return
    this.compacting = true
    try {
      await this.durable()
      const merged = await this.host.storage.compactDocument(
        this.ref.name,
        this.host.timings.compactAfterRows,
      )
      if (merged > 0) this.storedRows = Math.max(1, this.storedRows - merged + 1)
    } catch (err) {
      this.host.logger.warn(
        { room: this.ref.name, err: (err as Error).message },
        'compaction failed',
      )
    } finally {
      this.compacting = false
    }
  }

  destroy(): void {
    this.status = 'closed'
    this.awareness.off('update', this.onAwarenessUpdate)
    this.awareness.destroy()
    this.doc.destroy()
  }

  broadcast(message: Uint8Array, except: Connection | null): void {
    for (const c of this.conns) if (c !== except) c.send(message)
  }

  private enqueue(op: () => void | Promise<void>): void {
    this.intake = this.intake.then(op).catch((err: unknown) => {
      this.host.logger.error(
        { room: this.ref.name, err: (err as Error).message },
        'room operation failed',
      )
    })
  }

  private controlledByOther(conn: Connection, clientId: number): boolean {
    for (const c of this.conns) if (c !== conn && c.awarenessIds.has(clientId)) return true
    return false
  }

  private applyClientUpdate(conn: Connection, update: Uint8Array): void {
    if (this.status !== 'ready' || conn.closed) return
    if (!conn.canWrite) return this.refuseWrite(conn, update)
    const cap = newCapture()
    const capture = { origin: conn, cap, payload: null as Uint8Array | null }
    this.capturing = capture
    try {
      Y.applyUpdate(this.doc, update, conn)
    } catch (err) {
      cap.violation ??= `update does not apply: ${(err as Error).message}`
    } finally {
      this.capturing = null
    }
    if (cap.violation) {
      this.host.metrics.refusedWrites.inc({ reason: 'format' })
      const code = cap.future ? CLOSE.unsupportedSchema : CLOSE.malformed
      this.host.failRoom(this, cap.violation, { conn, code })
      return
    }
    const payload = capture.payload
    if (!payload) return // nothing new (a replay of what the server has)
    const drafts = this.describe(conn, cap)
    const durable = this.host.committer.commit({
      updates: [{ room: this.ref.name, data: payload }],
      drafts,
    })
    this.lastDurable = durable
    durable.then(
      () => {
        this.host.metrics.updates.inc()
        this.storedRows++
        if (this.status === 'ready') this.broadcast(encodeUpdate(payload), conn)
        this.host.relay?.publish(this.ref.name, 'update', payload)
        if (this.storedRows >= this.host.timings.compactAfterRows) void this.compact()
      },
      (err: unknown) => {
        // Not stored, or not audited: refused. Clients keep their edits and resend on reconnect.
        this.host.failRoom(this, `storage failed: ${(err as Error).message}`)
      },
    )
  }

  private describe(conn: Connection, cap: ChangeCapture): AuditDraft[] {
    const { user, role, team } = conn.principal
    const base = { team, actor: user, role, room: this.ref.name }
    if (this.ref.kind === 'policy') {
      if (!cap.policyChanged && !cap.metaChanged) return []
      const { details, policy } = describePolicyChange(this.doc, this.policy)
      this.policy = policy
      return [{ ...base, kind: 'policy.change', data: details }]
    }
    const patterns = describeLibraryChange(this.doc, cap, this.host.redact, this.host.assess)
    if (patterns.length === 0 && !cap.metaChanged) return []
    return [
      {
        ...base,
        kind: 'library.change',
        data: { library: this.ref.library, patterns, updates: 1 },
      },
    ]
  }

  /**
   * Refuses a write: not applied, stored or relayed; audited; answered with y-protocols'
   * "permission denied" (the app counts these; the stock client merely logs them).
   */
  private refuseWrite(conn: Connection, update: Uint8Array): void {
    // A client resending what the server already has is not a write.
    if (Y.snapshotContainsUpdate(Y.snapshot(this.doc), update)) return
    conn.refusedWrites++
    this.host.metrics.refusedWrites.inc({ reason: 'role' })
    conn.send(encodePermissionDenied(READ_ONLY_REASON))
    const { user, role, team } = conn.principal
    this.host.record([
      {
        team,
        actor: user,
        role,
        room: this.ref.name,
        kind: 'write.refused',
        data: { reason: 'role', bytes: update.length, attempt: conn.refusedWrites },
      },
    ])
    if (conn.refusedWrites > this.host.limits.maxRefusedWrites)
      conn.close(CLOSE.readOnly, 'read-only: too many refused writes')
  }

  private refreshPolicy(): void {
    if (this.ref.kind !== 'policy') return
    const read = readPolicyDocument(this.doc)
    if (read.ok) this.policy = read.value.policy
  }

  private readonly onAwarenessUpdate = (
    { added, updated, removed }: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    const changed = [...added, ...updated, ...removed]
    if (changed.length === 0) return
    const local = origin !== DURABLE_ORIGIN
    const from =
      typeof origin === 'object' && origin !== null && this.conns.has(origin as Connection)
        ? (origin as Connection)
        : null
    if (from) {
      for (const id of [...added, ...updated]) from.awarenessIds.add(id)
      for (const id of removed) from.awarenessIds.delete(id)
    }
    const update = awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed)
    this.broadcast(encodeAwarenessMessage(update), from)
    if (local) this.host.relay?.publish(this.ref.name, 'awareness', update)
  }
}
