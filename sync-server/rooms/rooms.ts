import * as Y from 'yjs'
import { CLOSE, type RoomRef } from '../../contract/sync'
import type { RelayKind } from '../relay/relay'
import type { Connection } from './connection'
import { Room, RoomLoadError } from './room'
import type { RoomHost } from './room-host'

/**
 * The rooms in memory: loads each once (concurrent joiners wait for the same load), unloads
 * rooms nobody has used for a while, and drops a room that failed so the next joiner reloads it
 * from storage.
 */
export class RoomManager {
  private readonly rooms = new Map<string, Promise<Room>>()
  private readonly loaded = new Map<string, Room>()

  constructor(private readonly host: RoomHost) {
    host.relay?.onResync(() => void this.resyncAll())
  }

  get size(): number {
    return this.loaded.size
  }

  list(): Room[] {
    return [...this.loaded.values()]
  }

  /** The loaded room, loading it first (subscribed to the relay before reading storage). */
  open(ref: RoomRef): Promise<Room> {
    let pending = this.rooms.get(ref.name)
    if (!pending) {
      pending = this.load(ref)
      this.rooms.set(ref.name, pending)
      pending.catch(() => {
        if (this.rooms.get(ref.name) === pending) this.rooms.delete(ref.name)
      })
    }
    return pending
  }

  fail(room: Room, reason: string, offender?: { conn: Connection; code: number }): void {
    if (room.status === 'closed') return
    this.host.logger.warn(
      { room: room.ref.name, reason },
      'room failed; it will reload from storage',
    )
    for (const c of room.conns) {
      if (c === offender?.conn) c.close(offender.code, `refused: ${reason}`)
      else if (offender)
        c.close(CLOSE.reload, 'document reloading after a refused update; reconnect')
      else c.close(CLOSE.storageUnavailable, 'storage unavailable; retry later')
    }
    this.drop(room)
  }

  /** Unloads rooms without connections for `idleUnloadMs` (after their last commit). */
  async unloadIdle(now = Date.now()): Promise<void> {
    for (const room of this.list()) {
      if (room.conns.size > 0 || now - room.emptySince < this.host.timings.idleUnloadMs) continue
      this.drop(room)
      await room.durable()
      if (room.storedRows > 1) await room.compact()
    }
  }

  /** Closes every room (shutdown): waits for commits, then frees memory. */
  async closeAll(): Promise<void> {
    for (const room of this.list()) {
      this.drop(room)
      await room.durable()
    }
  }

  private drop(room: Room): void {
    if (this.loaded.get(room.ref.name) === room) {
      this.loaded.delete(room.ref.name)
      this.rooms.delete(room.ref.name)
      void this.host.relay?.unsubscribe(room.ref.name)
    }
    room.destroy()
    this.host.metrics.rooms.set(this.loaded.size)
  }

  private async load(ref: RoomRef): Promise<Room> {
    const room = new Room(ref, this.host)
    const buffered: Array<[RelayKind, Uint8Array]> = []
    const relay = this.host.relay
    if (relay) {
      await relay.subscribe(ref.name, (kind, payload) => {
        if (room.status === 'loading') buffered.push([kind, payload])
        else this.applyRelayed(room, kind, payload)
      })
    }
    // Updates this instance has queued but not committed belong in the load.
    await this.host.committer.idle()
    try {
      await room.load()
    } catch (err) {
      room.destroy()
      if (relay) await relay.unsubscribe(ref.name)
      if (err instanceof RoomLoadError) throw err
      throw new RoomLoadError(CLOSE.storageUnavailable, (err as Error).message)
    }
    for (const [kind, payload] of buffered) this.applyRelayed(room, kind, payload)
    this.loaded.set(ref.name, room)
    this.host.metrics.rooms.set(this.loaded.size)
    return room
  }

  private applyRelayed(room: Room, kind: RelayKind, payload: Uint8Array): void {
    try {
      this.host.metrics.relayMessages.inc({ direction: 'in' })
      if (kind === 'update') room.applyDurable(payload)
      else room.relayedAwareness(payload)
    } catch (err) {
      this.host.logger.warn(
        { room: room.ref.name, err: (err as Error).message },
        'bad relayed message',
      )
    }
  }

  /** After the relay lost messages: bring every loaded room up to what storage holds. */
  private async resyncAll(): Promise<void> {
    for (const room of this.list()) {
      try {
        const updates = await this.host.storage.loadDocument(room.ref.name)
        room.applyDurable(Y.mergeUpdates(updates))
      } catch (err) {
        this.host.logger.warn({ room: room.ref.name, err: (err as Error).message }, 'resync failed')
      }
    }
  }
}
