/**
 * The control socket's wire format: one JSON object per line (UTF-8, `\n`-terminated) each way.
 * Kept free of runtime dependencies so the CLI's fast commands (`cmdai hook`) load it cheaply.
 *
 * The client speaks first with `hello` (the token from control.json) and may then send requests,
 * cancel them, and subscribe to events. Requests are the contract's channels, answered with the
 * same `Result` envelopes the renderer gets.
 */
import type { Result } from '../../contract/errors'

export const CONTROL_PROTOCOL = 1

export interface ControlClientInfo {
  /** Who is calling, e.g. `cmdai-cli`, `cmdai-mcp`, `cmdai-hook`. */
  name: string
  version?: string
}

export type ControlClientFrame =
  | { t: 'hello'; protocol: number; token: string; client: ControlClientInfo }
  | { t: 'req'; id: number; channel: string; args: unknown }
  | { t: 'cancel'; id: number }
  | { t: 'sub'; events: string[] }

export type ControlServerFrame =
  | { t: 'welcome'; protocol: number; pid: number; version: string; host: string }
  | { t: 'res'; id: number; result: Result<unknown> }
  | { t: 'evt'; name: string; payload: unknown }
  | { t: 'error'; error: { code: string; message: string } }

/** What control.json holds. */
export interface ControlInfo {
  pid: number
  socket: string
  token: string
  version: string
  /** `electron` or `browser` (cmdai serve). */
  host: string
  startedAt: number
}

/**
 * Splits a byte stream into lines, refusing any line longer than `maxBytes` (the peer is then
 * dropped: a line that never ends must not grow memory without bound).
 */
export class LineReader {
  private chunks: Buffer[] = []
  private size = 0

  constructor(
    private readonly maxBytes: number,
    private readonly onLine: (line: string) => void,
  ) {}

  /** Feeds bytes; returns false once a line is too long (nothing more is read). */
  push(data: Buffer): boolean {
    let start = 0
    for (;;) {
      const nl = data.indexOf(0x0a, start)
      if (nl === -1) break
      const part = data.subarray(start, nl)
      if (this.size + part.length > this.maxBytes) return false
      const line = this.size
        ? Buffer.concat([...this.chunks, part]).toString('utf8')
        : part.toString('utf8')
      this.chunks = []
      this.size = 0
      start = nl + 1
      if (line.length) this.onLine(line)
    }
    const rest = data.subarray(start)
    if (this.size + rest.length > this.maxBytes) return false
    if (rest.length) {
      this.chunks.push(Buffer.from(rest))
      this.size += rest.length
    }
    return true
  }
}
