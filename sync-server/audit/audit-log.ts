import type { AuditCheckpoint, AuditRecord } from '../../contract/sync'
import type { SqlClient } from '../storage/sql-client'
import type { AuditDraft, ChainHead, RawLine } from './chain'

export interface RetentionResult {
  team: string
  /** Records removed. */
  removed: number
  /** Segments (files) removed, embedded mode. */
  segments: string[]
  /** The seq the kept chain starts at (null when nothing was removed). */
  keptFromSeq: number | null
}

/**
 * The append-only, hash-chained audit log: one chain per team (plus `_server`). Embedded mode
 * writes JSON-lines segment files (`file-log.ts`), Postgres mode a table (`sql-log.ts`); both
 * store the same lines.
 */
export interface AuditLog {
  readonly kind: 'file' | 'sql'
  /**
   * Appends records in order. In Postgres mode, with `tx`, they commit with the caller's
   * transaction; the file log writes them before returning (and the caller commits after).
   * Throws when a record cannot be written: the change it records must then be refused.
   */
  append(drafts: AuditDraft[], tx?: SqlClient): Promise<AuditRecord[]>
  head(team: string): Promise<ChainHead>
  teams(): Promise<string[]>
  /** The team's lines in order, exactly as stored (for verify and export). */
  lines(team: string): AsyncIterable<RawLine>
  /** The team's lines newest first, those with a seq below `beforeSeq` (browsing back). */
  linesDescending(team: string, beforeSeq?: number): AsyncIterable<RawLine>
  checkpoints(team: string): Promise<AuditCheckpoint[]>
  saveCheckpoint(cp: AuditCheckpoint): Promise<void>
  /** Removes whole segments whose newest record is older than `cutoffMs`, recording the cut. */
  retain(team: string, cutoffMs: number, actor: string): Promise<RetentionResult>
  close(): Promise<void>
}

/** Parses a stored record line (export and summaries); throws on a corrupt line. */
export function parseRecord(line: string): AuditRecord {
  return JSON.parse(line) as AuditRecord
}
