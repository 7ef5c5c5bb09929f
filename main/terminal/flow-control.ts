/**
 * Watermark flow control for one PTY, as xterm.js's flow-control guide describes: output counts
 * as pending from the moment it leaves the PTY until the screen that shows it says it has been
 * processed. Two consumers are tracked: the attached client's screen (acknowledged offsets sent
 * back over the transport) and the server's own screen mirror (its write callbacks). The PTY is
 * paused when either is more than `high` characters behind and resumed when both are below `low`;
 * a paused PTY fills the kernel's buffer, which blocks the writing program — nothing is buffered
 * without bound, and Ctrl+C reaches the program at once (input does not wait for output).
 */
export interface Watermarks {
  high: number
  low: number
}

export const DEFAULT_WATERMARKS: Watermarks = { high: 1_000_000, low: 250_000 }

export class FlowControl {
  /** Characters emitted so far (the offset after the latest chunk). */
  private emitted = 0
  /** Offset the client has acknowledged; null while no client is attached. */
  private acked: number | null = null
  /** Characters written to the mirror that it has not parsed yet. */
  private mirrorPending = 0
  private paused = false

  constructor(
    private readonly onChange: (paused: boolean) => void,
    private readonly marks: Watermarks = DEFAULT_WATERMARKS,
  ) {
    if (!(marks.low >= 0 && marks.high > marks.low))
      throw new Error('Watermarks need 0 <= low < high')
  }

  get offset(): number {
    return this.emitted
  }

  get isPaused(): boolean {
    return this.paused
  }

  /** How far the client is behind, in characters (0 without a client). */
  get clientLag(): number {
    return this.acked === null ? 0 : this.emitted - this.acked
  }

  get mirrorLag(): number {
    return this.mirrorPending
  }

  /** A chunk left the PTY; returns its end offset (sent with the chunk). */
  emit(chars: number): number {
    this.emitted += chars
    this.mirrorPending += chars
    this.update()
    return this.emitted
  }

  /** The mirror finished parsing a chunk of this many characters. */
  mirrorDone(chars: number): void {
    this.mirrorPending = Math.max(0, this.mirrorPending - chars)
    this.update()
  }

  /** A client now shows everything up to `offset` (a snapshot or an acknowledgement). */
  attach(offset: number): void {
    this.acked = Math.min(Math.max(0, offset), this.emitted)
    this.update()
  }

  /** The client went away: only the mirror holds the PTY back now. */
  detach(): void {
    this.acked = null
    this.update()
  }

  /** The client acknowledges everything up to `offset`; stale or impossible offsets are ignored. */
  ack(offset: number): void {
    if (this.acked === null || !Number.isFinite(offset)) return
    if (offset > this.acked) this.acked = Math.min(offset, this.emitted)
    this.update()
  }

  private update(): void {
    const lag = Math.max(this.clientLag, this.mirrorPending)
    if (!this.paused && lag > this.marks.high) {
      this.paused = true
      this.onChange(true)
    } else if (this.paused && lag < this.marks.low) {
      this.paused = false
      this.onChange(false)
    }
  }
}
