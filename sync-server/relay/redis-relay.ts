import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { Relay, RelayKind } from './relay'
import { redactUrl } from './url'

const KIND_BYTE: Record<RelayKind, number> = { update: 1, awareness: 2 }
const ID_BYTES = 16

/**
 * Redis pub/sub relay: one channel per room (`<prefix>room:<room>`), each message tagged with the
 * sending instance so it ignores its own. Pub/sub is lossy across a Redis reconnect, so after one
 * the listeners resync their rooms from storage (the store of record); a late joiner on any
 * instance loads from the shared Postgres, having subscribed first so nothing falls in between.
 */
export class RedisRelay implements Relay {
  private readonly instance = randomBytes(ID_BYTES)
  private readonly pub: Redis
  private readonly sub: Redis
  private readonly handlers = new Map<string, (kind: RelayKind, payload: Uint8Array) => void>()
  private readonly resyncListeners: Array<() => void> = []
  private connectedOnce = false

  private constructor(
    url: string,
    private readonly logger: Logger,
    private readonly prefix: string,
  ) {
    const options = { maxRetriesPerRequest: null, lazyConnect: true, enableReadyCheck: true }
    this.pub = new Redis(url, options)
    this.sub = new Redis(url, options)
    for (const client of [this.pub, this.sub])
      client.on('error', (err: Error) => this.logger.warn({ err: err.message }, 'redis error'))
    this.sub.on('messageBuffer', (channel: Buffer, message: Buffer) =>
      this.receive(channel, message),
    )
    this.sub.on('ready', () => {
      // ioredis resubscribes by itself; what was published meanwhile is gone: resync.
      if (this.connectedOnce) for (const l of this.resyncListeners) l()
      this.connectedOnce = true
    })
  }

  static async connect(url: string, logger: Logger, prefix = 'cmdai:sync:'): Promise<RedisRelay> {
    const relay = new RedisRelay(url, logger, prefix)
    try {
      await Promise.all([relay.pub.connect(), relay.sub.connect()])
    } catch (err) {
      relay.pub.disconnect()
      relay.sub.disconnect()
      throw new Error(`Cannot reach Redis at ${redactUrl(url)}: ${(err as Error).message}`)
    }
    return relay
  }

  async subscribe(
    room: string,
    onMessage: (kind: RelayKind, payload: Uint8Array) => void,
  ): Promise<void> {
    this.handlers.set(room, onMessage)
    await this.sub.subscribe(this.channel(room))
  }

  async unsubscribe(room: string): Promise<void> {
    this.handlers.delete(room)
    await this.sub.unsubscribe(this.channel(room)).catch(() => {})
  }

  publish(room: string, kind: RelayKind, payload: Uint8Array): void {
    const message = Buffer.allocUnsafe(1 + ID_BYTES + payload.length)
    message[0] = KIND_BYTE[kind]
    this.instance.copy(message, 1)
    message.set(payload, 1 + ID_BYTES)
    this.pub.publish(this.channel(room), message).catch((err: Error) => {
      this.logger.warn({ room, err: err.message }, 'redis publish failed')
    })
  }

  onResync(listener: () => void): void {
    this.resyncListeners.push(listener)
  }

  ready(): boolean {
    return this.pub.status === 'ready' && this.sub.status === 'ready'
  }

  async close(): Promise<void> {
    this.handlers.clear()
    await Promise.allSettled([this.pub.quit(), this.sub.quit()])
  }

  private channel(room: string): string {
    return `${this.prefix}room:${room}`
  }

  private receive(channel: Buffer, message: Buffer): void {
    const name = channel.toString()
    const prefix = `${this.prefix}room:`
    if (!name.startsWith(prefix) || message.length < 1 + ID_BYTES) return
    if (message.subarray(1, 1 + ID_BYTES).equals(this.instance)) return
    const handler = this.handlers.get(name.slice(prefix.length))
    const kind = message[0] === 1 ? 'update' : message[0] === 2 ? 'awareness' : null
    if (!handler || !kind) return
    handler(kind, new Uint8Array(message.subarray(1 + ID_BYTES)))
  }
}
