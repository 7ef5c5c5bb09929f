import { CmdaiError } from '../../contract/errors'
import { peekToken, type CredentialStore } from './credentials'
import { refreshSession } from './sso-client'

/**
 * Keeps single sign-on sessions signed in: each access token is refreshed before it expires (a
 * quarter of its life ahead, at least 30 s), the new refresh token stored at once with it (the
 * old one is spent: using it again would end the session), one refresh per team at a time. A
 * server that cannot be reached is tried again with backoff; a refused refresh (signed out
 * elsewhere, groups that no longer grant access, revoked) ends the session here too.
 */
export interface KeeperEvents {
  /** A new access token for the team: reconnect with it. */
  token(server: string, team: string, token: string): void
  /** The session is over: why, in words. */
  lost(server: string, team: string, reason: string): void
}

const MIN_LEAD_MS = 30_000
const MAX_LEAD_MS = 5 * 60_000
const RETRY_MS = [5_000, 15_000, 30_000, 60_000]

export class SessionKeeper {
  private readonly timers = new Map<string, NodeJS.Timeout>()
  private readonly running = new Map<string, Promise<string | null>>()
  private readonly failures = new Map<string, number>()
  private stopped = false

  constructor(
    private readonly credentials: CredentialStore,
    private readonly events: KeeperEvents,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Schedules a refresh for every stored session. */
  start(): void {
    for (const c of this.credentials.list()) if (c.refresh) this.schedule(c.server, c.team)
  }

  /** A token that is valid for a while yet (refreshing first when it is not); null when signed out. */
  async freshToken(server: string, team: string, minValidMs = MIN_LEAD_MS): Promise<string | null> {
    const token = this.credentials.get(server, team)
    if (!token) return null
    const exp = (peekToken(token)?.exp ?? 0) * 1000
    if (exp - this.now() > minValidMs || !this.credentials.refreshToken(server, team)) return token
    return this.refresh(server, team)
  }

  /** Refreshes now (once at a time per team); the new access token, or null when signed out. */
  refresh(server: string, team: string): Promise<string | null> {
    const key = `${server}\u0000${team}`
    let run = this.running.get(key)
    if (!run) {
      run = this.doRefresh(server, team).finally(() => this.running.delete(key))
      this.running.set(key, run)
    }
    return run
  }

  schedule(server: string, team: string, delayMs?: number): void {
    if (this.stopped) return
    const key = `${server}\u0000${team}`
    clearTimeout(this.timers.get(key))
    const token = this.credentials.get(server, team)
    if (!token || !this.credentials.refreshToken(server, team)) return
    let delay = delayMs
    if (delay === undefined) {
      const claims = peekToken(token)
      const exp = (claims?.exp ?? 0) * 1000
      const life = Math.max(0, exp - this.now())
      const lead = Math.min(MAX_LEAD_MS, Math.max(MIN_LEAD_MS, life / 4))
      delay = Math.max(0, exp - lead - this.now())
    }
    const timer = setTimeout(() => {
      void this.refresh(server, team).catch(() => {})
    }, delay)
    timer.unref()
    this.timers.set(key, timer)
  }

  stop(): void {
    this.stopped = true
    for (const t of this.timers.values()) clearTimeout(t)
    this.timers.clear()
  }

  private async doRefresh(server: string, team: string): Promise<string | null> {
    const key = `${server}\u0000${team}`
    // Another process (the CLI, the app) may have refreshed meanwhile: read what is stored now.
    this.credentials.reload()
    const refresh = this.credentials.refreshToken(server, team)
    if (!refresh) return this.credentials.get(server, team)
    try {
      const tokens = await refreshSession(server, refresh)
      this.credentials.setSession(server, tokens.team, tokens.access_token, tokens.refresh_token)
      this.failures.delete(key)
      this.events.token(server, team, tokens.access_token)
      this.schedule(server, team)
      return tokens.access_token
    } catch (err) {
      const e = err as CmdaiError
      if (e instanceof CmdaiError && (e.code === 'unavailable' || e.code === 'timeout')) {
        const n = this.failures.get(key) ?? 0
        this.failures.set(key, n + 1)
        this.schedule(server, team, RETRY_MS[Math.min(n, RETRY_MS.length - 1)])
        throw e
      }
      // Refused for good: keep the (soon expired) token for the record, drop the session.
      const token = this.credentials.get(server, team)
      if (token) this.credentials.setSession(server, team, token, null)
      this.events.lost(server, team, `${e.message}: sign in again`)
      return null
    }
  }
}
