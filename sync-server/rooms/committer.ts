import type { AuditLog } from '../audit/audit-log'
import type { AuditDraft } from '../audit/chain'
import type { AuditRecord } from '../../contract/sync'
import type { SqlClient } from '../storage/sql-client'
import type { Storage } from '../storage/storage'
import { coalesceDrafts } from './summary'

/** One unit of work that must be durable (and audited) before its effect is shown to anyone. */
export interface CommitEntry {
  /** Document updates to store. */
  updates?: Array<{ room: string; data: Uint8Array }>
  /** Audit records to append. */
  drafts?: AuditDraft[]
  /** Extra statements inside the same transaction; returns more audit records. */
  run?: (tx: SqlClient) => Promise<AuditDraft[]>
}

interface Pending {
  entry: CommitEntry
  resolve: () => void
  reject: (err: unknown) => void
}

export interface CommitterHooks {
  onCommit?: (info: {
    entries: number
    updates: number
    records: AuditRecord[]
    ms: number
  }) => void
  onError?: (err: unknown, entries: number) => void
}

/**
 * Group commit: entries queue while a transaction is in flight, then go together in the next
 * one: their statements, all their document updates in one INSERT, and their audit records
 * (library changes coalesced per room and actor). Each entry's promise resolves only after
 * the commit, so callers relay or acknowledge only what is durable; if the commit fails, every
 * entry in it is rejected and its change refused. Order is kept: batches commit one at a time.
 */
export class Committer {
  private queue: Pending[] = []
  private running: Promise<void> | null = null
  private stopped = false

  constructor(
    private readonly storage: Storage,
    private readonly audit: AuditLog,
    private readonly hooks: CommitterHooks = {},
    private readonly maxBatch = 1_000,
  ) {}

  commit(entry: CommitEntry): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('server is shutting down'))
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ entry, resolve, reject })
      this.running ??= this.drain()
    })
  }

  /** Resolves once everything queued so far is committed (or failed). */
  async idle(): Promise<void> {
    while (this.running) await this.running
  }

  /** Commits what is queued, then refuses new entries. */
  async stop(): Promise<void> {
    await this.idle()
    this.stopped = true
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch)
        await this.flush(batch)
      }
    } finally {
      this.running = null
    }
  }

  /**
   * Embedded mode, updates and records only: the records first (files), then every update in one
   * INSERT, atomic by itself. Same guarantee as the transaction (a change is never stored
   * without its record), one database round trip instead of three.
   */
  private async flushFast(batch: Pending[], updates: Array<{ room: string; data: Uint8Array }>) {
    const records = await this.audit.append(
      coalesceDrafts(batch.flatMap((p) => p.entry.drafts ?? [])),
    )
    await this.storage.appendUpdates(updates)
    return records
  }

  private async flush(batch: Pending[]): Promise<void> {
    const started = performance.now()
    const updates = batch.flatMap((p) => p.entry.updates ?? [])
    try {
      const records =
        this.audit.kind === 'file' && batch.every((p) => !p.entry.run)
          ? await this.flushFast(batch, updates)
          : await this.storage.transaction(async (tx) => {
              const drafts: AuditDraft[] = []
              for (const p of batch) {
                if (p.entry.run) drafts.push(...(await p.entry.run(tx)))
                if (p.entry.drafts) drafts.push(...p.entry.drafts)
              }
              await this.storage.appendUpdates(updates, tx)
              // Last in the transaction: the file log writes as it goes, so nothing after it may
              // fail for a reason the records would then misreport.
              return this.audit.append(coalesceDrafts(drafts), tx)
            })
      this.hooks.onCommit?.({
        entries: batch.length,
        updates: updates.length,
        records,
        ms: performance.now() - started,
      })
      for (const p of batch) p.resolve()
    } catch (err) {
      this.hooks.onError?.(err, batch.length)
      for (const p of batch) p.reject(err)
    }
  }
}
