import type { PGlite, Transaction } from '@electric-sql/pglite'
import { createHash } from 'node:crypto'

/** One validated, redacted row for `insertBatch`. */
export interface BulkRow {
  command: string
  cwd: string | null
  exitCode: number | null
  startedAt: number
  durationMs: number | null
  shell: string | null
  host: string | null
  sessionId: string | null
  ptyId: string | null
  source: string
  /** Makes re-importing idempotent: stored as `importHash(key)`. */
  key: string
  /** For cmdai's own exports: the AI request the command came from. */
  ai?: {
    request: string
    proposedCommand: string | null
    decision: string | null
    risk: string | null
  } | null
}

export interface BatchResult {
  imported: number
  duplicates: number
}

/** The first 8 bytes of SHA-256 as a signed 64-bit integer (migration 5 computes the same). */
export function importHash(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest().readBigInt64BE(0).toString()
}

/**
 * Inserts a batch of imported rows in one transaction: new texts, then in one statement the commands
 * (skipping import keys already present and, with `dedupeByContent`, rows with the same text and
 * start time), the sessions they name, and each text's counters. Rows travel as one JSON
 * parameter (PGlite serialises a JS array parameter element by element, ~10x slower), and the
 * foreign-key triggers are off for the transaction (`session_replication_role`): the statement
 * itself makes every referenced text and session exist, and checking 5,000 keys one by one was a
 * quarter of the time.
 */
export async function insertBatch(
  db: PGlite,
  rows: BulkRow[],
  options: { dedupeByContent?: boolean } = {},
): Promise<BatchResult> {
  if (rows.length === 0) return { imported: 0, duplicates: 0 }
  const json = JSON.stringify(
    rows.map((r) => [
      r.command,
      r.cwd,
      r.exitCode,
      r.startedAt,
      r.durationMs,
      r.shell,
      r.host,
      r.sessionId,
      r.ptyId,
      r.source,
      importHash(r.key),
    ]),
  )
  const contentDedupe = options.dedupeByContent
    ? `AND NOT EXISTS (SELECT 1 FROM commands c WHERE c.text_id = t.id AND c.started_at = i.started_at)`
    : ''
  // The texts go first, in their own statement: the statements of one WITH share a snapshot, so
  // counters updated in the same statement would miss the texts it inserted.
  const texts = JSON.stringify([...new Set(rows.map((r) => r.command))])
  return db.transaction(async (tx) => {
    await tx.exec('SET LOCAL session_replication_role = replica')
    await tx.query(
      `INSERT INTO command_texts (text) SELECT x FROM jsonb_array_elements_text($1::jsonb) x
       ON CONFLICT (text) DO NOTHING`,
      [texts],
    )
    const res = await tx.query<{ n: number }>(
      `WITH input AS MATERIALIZED (
         SELECT e->>0 AS text, e->>1 AS cwd, (e->>2)::int AS exit_code,
           (e->>3)::bigint AS started_at, (e->>4)::int AS duration_ms, e->>5 AS shell,
           e->>6 AS host, e->>7 AS session_id, e->>8 AS pty_id, e->>9 AS source,
           (e->>10)::bigint AS import_hash, o AS ord
         FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(e, o)
       ), new_sessions AS (
         INSERT INTO sessions (id, kind, started_at, host, shell)
         SELECT DISTINCT ON (session_id) session_id,
           CASE WHEN session_id LIKE 'import:%' THEN 'import' ELSE 'terminal' END,
           started_at, host, shell
         FROM input WHERE session_id IS NOT NULL ORDER BY session_id, started_at
         ON CONFLICT (id) DO NOTHING
       ), ins AS (
         INSERT INTO commands (text_id, cwd, exit_code, started_at, duration_ms, shell, host,
           session_id, pty_id, source, import_hash)
         SELECT t.id, i.cwd, i.exit_code, i.started_at, i.duration_ms, i.shell, i.host,
           i.session_id, i.pty_id, i.source, i.import_hash
         FROM input i JOIN command_texts t ON t.text = i.text
         WHERE TRUE ${contentDedupe}
         ORDER BY i.ord
         ON CONFLICT (import_hash) DO NOTHING
         RETURNING text_id, exit_code, started_at
       ), agg AS (
         UPDATE command_texts t SET uses = t.uses + a.n, ok_uses = t.ok_uses + a.ok,
           fail_uses = t.fail_uses + a.fail, last_used_at = greatest(t.last_used_at, a.last)
         FROM (SELECT text_id, count(*)::int AS n,
                 count(*) FILTER (WHERE exit_code = 0)::int AS ok,
                 count(*) FILTER (WHERE exit_code <> 0)::int AS fail,
                 max(started_at) AS last
               FROM ins GROUP BY text_id) a
         WHERE t.id = a.text_id
       )
       SELECT count(*)::int AS n FROM ins`,
      [json],
    )
    const imported = res.rows[0]?.n ?? 0
    const withAi = rows.filter((r) => r.ai)
    if (withAi.length) await linkAiRequests(tx, withAi)
    return { imported, duplicates: rows.length - imported }
  })
}

/** Re-creates the AI requests of imported rows (cmdai's own exports) and links them. */
async function linkAiRequests(tx: Transaction, rows: BulkRow[]): Promise<void> {
  for (const row of rows) {
    const ai = row.ai!
    await tx.query(
      `WITH c AS (
         SELECT id FROM commands WHERE import_hash = $1::bigint AND ai_request_id IS NULL
       ), a AS (
         INSERT INTO ai_requests (created_at, request, proposed_command, risk, decision,
           final_command, decided_at, pty_id, command_id)
         SELECT $2, $3, $4, $5, $6, $7, $2, $8, c.id FROM c RETURNING id, command_id
       )
       UPDATE commands SET ai_request_id = a.id FROM a WHERE commands.id = a.command_id`,
      [
        importHash(row.key),
        row.startedAt,
        ai.request,
        ai.proposedCommand,
        ai.risk,
        ai.decision,
        ai.decision === 'edited' ? row.command : null,
        row.ptyId,
      ],
    )
  }
}
