import type { AuditCheckpoint, AuditRecord } from '../../contract/sync'
import type { SqlClient } from '../storage/sql-client'
import type { Storage } from '../storage/storage'
import type { AuditLog, RetentionResult } from './audit-log'
import {
  GENESIS_HASH,
  parseCheckpoint,
  sealRecord,
  type AuditDraft,
  type ChainHead,
  type RawLine,
} from './chain'

const PAGE = 5_000

/**
 * The Postgres-mode audit log: the same lines as the segment files, in `audit_records`. The head
 * row of a team is locked (`FOR UPDATE`) for the append, so several server instances extend one
 * chain without forking it, and the records commit in the same transaction as the change.
 */
export class SqlAuditLog implements AuditLog {
  readonly kind = 'sql' as const

  constructor(private readonly storage: Storage) {}

  async append(drafts: AuditDraft[], tx?: SqlClient): Promise<AuditRecord[]> {
    if (drafts.length === 0) return []
    if (!tx) return this.storage.transaction((t) => this.append(drafts, t))
    const teams = [...new Set(drafts.map((d) => d.team))].sort()
    const heads = new Map<string, ChainHead>()
    // Lock heads in a fixed order so two instances appending for the same teams cannot deadlock.
    for (const team of teams) {
      await tx.query(
        `INSERT INTO audit_heads (team, seq, hash) VALUES ($1, 0, $2) ON CONFLICT (team) DO NOTHING`,
        [team, GENESIS_HASH],
      )
      const r = await tx.query<{ seq: string | number; hash: string }>(
        'SELECT seq::text AS seq, hash FROM audit_heads WHERE team = $1 FOR UPDATE',
        [team],
      )
      heads.set(team, { seq: Number(r.rows[0]!.seq), hash: r.rows[0]!.hash })
    }
    const now = new Date()
    const records: AuditRecord[] = []
    const params: unknown[] = []
    const values: string[] = []
    for (const d of drafts) {
      const sealed = sealRecord(d, heads.get(d.team)!, now)
      records.push(sealed.record)
      heads.set(d.team, { seq: sealed.record.seq, hash: sealed.record.hash })
      params.push(d.team, sealed.record.seq, sealed.record.ts, sealed.line)
      const n = params.length
      values.push(`($${n - 3}, $${n - 2}, $${n - 1}, $${n})`)
    }
    await tx.query(
      `INSERT INTO audit_records (team, seq, ts, line) VALUES ${values.join(', ')}`,
      params,
    )
    for (const [team, head] of heads)
      await tx.query('UPDATE audit_heads SET seq = $2, hash = $3 WHERE team = $1', [
        team,
        head.seq,
        head.hash,
      ])
    return records
  }

  async head(team: string): Promise<ChainHead> {
    const r = await this.storage.sql.query<{ seq: string | number; hash: string }>(
      'SELECT seq::text AS seq, hash FROM audit_heads WHERE team = $1',
      [team],
    )
    const row = r.rows[0]
    return row ? { seq: Number(row.seq), hash: row.hash } : { seq: 0, hash: GENESIS_HASH }
  }

  async teams(): Promise<string[]> {
    const r = await this.storage.sql.query<{ team: string }>(
      'SELECT team FROM audit_heads ORDER BY team',
    )
    return r.rows.map((row) => row.team)
  }

  async *lines(team: string): AsyncIterable<RawLine> {
    let after = 0
    for (;;) {
      const r = await this.storage.sql.query<{ seq_text: string; line: string }>(
        'SELECT seq::text AS seq_text, line FROM audit_records WHERE team = $1 AND seq > $2 ORDER BY seq LIMIT $3',
        [team, after, PAGE],
      )
      for (const row of r.rows)
        yield { line: row.line, where: `audit_records(${team}, ${row.seq_text})` }
      if (r.rows.length < PAGE) return
      after = Number(r.rows[r.rows.length - 1]!.seq_text)
    }
  }

  async *linesDescending(
    team: string,
    beforeSeq = Number.MAX_SAFE_INTEGER,
  ): AsyncIterable<RawLine> {
    let before = beforeSeq
    for (;;) {
      const r = await this.storage.sql.query<{ seq_text: string; line: string }>(
        'SELECT seq::text AS seq_text, line FROM audit_records WHERE team = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3',
        [team, before, PAGE],
      )
      for (const row of r.rows)
        yield { line: row.line, where: `audit_records(${team}, ${row.seq_text})` }
      if (r.rows.length < PAGE) return
      before = Number(r.rows[r.rows.length - 1]!.seq_text)
    }
  }

  async checkpoints(team: string): Promise<AuditCheckpoint[]> {
    const r = await this.storage.sql.query<{ line: string }>(
      'SELECT line FROM audit_checkpoints WHERE team = $1 ORDER BY seq',
      [team],
    )
    return r.rows.map((row) => parseCheckpoint(row.line))
  }

  async saveCheckpoint(cp: AuditCheckpoint): Promise<void> {
    await this.storage.sql.query(
      'INSERT INTO audit_checkpoints (team, seq, line) VALUES ($1, $2, $3) ON CONFLICT (team, seq) DO NOTHING',
      [cp.team, cp.seq, JSON.stringify(cp)],
    )
  }

  async retain(team: string, cutoffMs: number, actor: string): Promise<RetentionResult> {
    return this.storage.transaction(async (tx) => {
      const cutoff = new Date(cutoffMs).toISOString()
      // Keep the newest record whatever its age, so the head stays in the table.
      const r = await tx.query<{ seq: string | number }>(
        `SELECT max(seq)::text AS seq FROM audit_records WHERE team = $1 AND ts < $2
           AND seq < (SELECT max(seq) FROM audit_records WHERE team = $1)`,
        [team, cutoff],
      )
      const through = r.rows[0]?.seq == null ? 0 : Number(r.rows[0].seq)
      const result: RetentionResult = { team, removed: 0, segments: [], keptFromSeq: null }
      if (!through) return result
      const kept = await tx.query<{ line: string }>(
        'SELECT line FROM audit_records WHERE team = $1 AND seq > $2 ORDER BY seq LIMIT 1',
        [team, through],
      )
      const first = JSON.parse(kept.rows[0]!.line) as AuditRecord
      const del = await tx.query<{ n: number }>(
        `WITH d AS (DELETE FROM audit_records WHERE team = $1 AND seq <= $2 RETURNING 1)
         SELECT count(*)::int AS n FROM d`,
        [team, through],
      )
      result.removed = Number(del.rows[0]?.n ?? 0)
      result.keptFromSeq = first.seq
      await this.append(
        [
          {
            team,
            kind: 'audit.retention',
            actor,
            data: {
              cutoff,
              removedRecords: result.removed,
              keptFromSeq: first.seq,
              keptFromPrev: first.prev,
            },
          },
        ],
        tx,
      )
      return result
    })
  }

  async close(): Promise<void> {}
}
