import type { WebSocket } from 'ws'
import {
  SERVER_AWARENESS_CLIENT_ID,
  SYNC_SCHEMA_VERSION,
  canWrite,
  type RoomRef,
  type Role,
  type ServerAwarenessState,
} from '../../contract/sync'
import type { Limits } from '../config'
import { encodeAwarenessEntries, encodeAwarenessMessage } from './protocol'

/** Who is on the other end, from the verified token and the member's current role. */
export interface Principal {
  team: string
  user: string
  /** The effective role: the lower of the token's and the member's. */
  role: Role
  tokenRole: Role
  /** The member's own role when signed in (the effective role may be an elevation above it). */
  memberRole?: Role
  /** An active just-in-time elevation gives `role` until then (epoch ms). */
  elevatedUntil?: number
  jti: string
  /** Token expiry, epoch ms. */
  expiresAt: number
  ip: string
}

let nextId = 1

/** One WebSocket client in one room. */
export class Connection {
  readonly id = nextId++
  readonly openedAt = Date.now()
  /** Awareness client ids this connection set (removed when it leaves). */
  readonly awarenessIds = new Set<number>()
  refusedWrites = 0
  closed = false
  closeInfo: { code: number; reason: string } | null = null
  private tokens: number
  private lastRefill = performance.now()
  private serverStateClock = 0

  constructor(
    readonly ws: WebSocket,
    readonly ref: RoomRef,
    public principal: Principal,
    private readonly limits: Limits,
  ) {
    this.tokens = limits.messageBurst
  }

  get canWrite(): boolean {
    return canWrite(this.principal.role, this.ref.kind)
  }

  send(data: Uint8Array): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return
    this.ws.send(data, { binary: true })
  }

  /** Token bucket: false when this message is over the rate. */
  takeMessageToken(): boolean {
    const now = performance.now()
    this.tokens = Math.min(
      this.limits.messageBurst,
      this.tokens + ((now - this.lastRefill) / 1000) * this.limits.messagesPerSecond,
    )
    this.lastRefill = now
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  /** Tells this client (and only it) its role and whether it may write, as an awareness entry. */
  sendServerState(): void {
    const state: { cmdaiServer: ServerAwarenessState } = {
      cmdaiServer: {
        v: 1,
        team: this.principal.team,
        user: this.principal.user,
        role: this.principal.role,
        ...(this.principal.elevatedUntil !== undefined && this.principal.memberRole
          ? { baseRole: this.principal.memberRole, elevatedUntil: this.principal.elevatedUntil }
          : {}),
        readOnly: !this.canWrite,
        schema: SYNC_SCHEMA_VERSION,
      },
    }
    this.serverStateClock++
    this.send(
      encodeAwarenessMessage(
        encodeAwarenessEntries([
          {
            clientId: SERVER_AWARENESS_CLIENT_ID,
            clock: this.serverStateClock,
            json: JSON.stringify(state),
          },
        ]),
      ),
    )
  }

  close(code: number, reason: string): void {
    if (this.closed) return
    this.closed = true
    this.closeInfo = { code, reason }
    // Close reasons are limited to 123 bytes by RFC 6455.
    let text = reason
    while (Buffer.byteLength(text) > 123) text = text.slice(0, -1)
    try {
      this.ws.close(code, text)
    } catch {
      this.ws.terminate()
    }
    // A peer that never answers the close handshake is cut off.
    setTimeout(() => {
      if (this.ws.readyState !== this.ws.CLOSED) this.ws.terminate()
    }, 5_000).unref()
  }
}
