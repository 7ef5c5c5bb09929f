/** At most `limit` events per key per window (sign-in links, invite codes): guessing is slow. */
export class RateLimiter {
  private readonly windows = new Map<string, { start: number; n: number }>()

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  take(key: string, now = Date.now()): boolean {
    if (this.windows.size > 10_000)
      for (const [k, w] of this.windows) if (now - w.start > this.windowMs) this.windows.delete(k)
    const w = this.windows.get(key)
    if (!w || now - w.start > this.windowMs) {
      this.windows.set(key, { start: now, n: 1 })
      return true
    }
    w.n++
    return w.n <= this.limit
  }
}
