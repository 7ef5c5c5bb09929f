import { connectToApp, type ControlClient } from '../control/client'
import type { ControlClientInfo } from '../control/protocol'

/**
 * A long-running agent process's way to the app: connects when first needed, notices when the
 * app quits, and connects again when it is back (or reports that none runs).
 */
export class AppLink {
  private client: ControlClient | null = null
  private connecting: Promise<ControlClient | null> | null = null

  constructor(
    private readonly dataDir: string,
    private readonly info: ControlClientInfo,
  ) {}

  /** The connected app, or null when no app runs on this data dir. */
  async get(): Promise<ControlClient | null> {
    if (this.client && !this.client.closed) return this.client
    this.client = null
    // An app that is busy starting (its database opening) may take a while to answer.
    this.connecting ??= connectToApp(this.dataDir, {
      client: this.info,
      timeoutMs: 15_000,
    }).finally(() => {
      this.connecting = null
    })
    this.client = await this.connecting
    return this.client
  }

  close(): void {
    this.client?.close()
    this.client = null
  }
}
