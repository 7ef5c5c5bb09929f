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
 * Inserts a batch of imported rows in one transaction:
 * 1. the new texts, getting back every text's id (one statement, ids as one JSON value: PGlite
 *    parses ordinary result rows at ~30 us each);
 * 2. which rows are already there: import keys present (and, with `dedupeByContent`, the same
 *    text at the same start time), plus repeats within the batch;
 * 3. the new rows with COPY (its multi-row path writes pages, not tuples, ~40% less than
 *    INSERT … SELECT here), their sessions, and each text's counters.
 * The foreign-key triggers are off for the transaction (`session_replication_role`): steps 1 and
 * 3 make every referenced text and session exist, and checking keys one by one was a quarter of
 * the time. Parameters travel as JSON (PGlite serialises JS arrays element by element, slowly).
 */
export async function insertBatch(
  db: PGlite,
  rows: BulkRow[],
  options: { dedupeByContent?: boolean } = {},
): Promise<BatchResult> {
  if (rows.length === 0) return { imported: 0, duplicates: 0 }
  const hashes = rows.map((r) => importHash(r.key))
  const distinct = JSON.stringify([...new Set(rows.map((r) => r.command))])
  return db.transaction(async (tx) => {
    await tx.exec('SET LOCAL session_replication_role = replica')
    const textIds = await upsertTexts(tx, distinct)
    const present = await existingRows(tx, rows, hashes, textIds, options.dedupeByContent)
    const fresh: number[] = []
    for (let i = 0; i < rows.length; i++) {
      const key = hashes[i]!
      if (present.has(key)) continue
      present.add(key)
      fresh.push(i)
    }
    if (fresh.length) {
      await tx.query(
        `COPY commands (text_id, cwd, exit_code, started_at, duration_ms, shell, host,
           session_id, pty_id, source, import_hash) FROM '/dev/blob'`,
        [],
        { blob: new Blob([copyText(fresh.map((i) => [rows[i]!, textIds, hashes[i]!]))]) },
      )
      await addSessions(
        tx,
        fresh.map((i) => rows[i]!),
      )
      await bumpCounters(
        tx,
        fresh.map((i) => rows[i]!),
        textIds,
      )
      const withAi = fresh.map((i) => rows[i]!).filter((r) => r.ai)
      if (withAi.length) await linkAiRequests(tx, withAi)
    }
    return { imported: fresh.length, duplicates: rows.length - fresh.length }
  })
}

/** Inserts the texts not yet stored; returns the id of every one. */
async function upsertTexts(tx: Transaction, distinct: string): Promise<Map<string, number>> {
  // The lookup half sees the table as it was before the insert half: together, every text once.
  const res = await tx.query<{ j: Array<[number, string]> | null }>(
    `WITH input AS (SELECT x FROM jsonb_array_elements_text($1::jsonb) x),
     ins AS (INSERT INTO command_texts (text) SELECT x FROM input
             ON CONFLICT (text) DO NOTHING RETURNING id, text)
     SELECT json_agg(json_build_array(id, text)) AS j FROM (
       SELECT id, text FROM ins
       UNION ALL SELECT t.id, t.text FROM command_texts t JOIN input ON t.text = input.x) u`,
    [distinct],
  )
  return new Map((res.rows[0]?.j ?? []).map(([id, text]) => [text, id]))
}

/** Import hashes of the rows already stored (by import key, or by text and start time). */
async function existingRows(
  tx: Transaction,
  rows: BulkRow[],
  hashes: string[],
  textIds: Map<string, number>,
  byContent: boolean | undefined,
): Promise<Set<string>> {
  const res = await tx.query<{ j: string[] | null }>(
    `SELECT json_agg(import_hash::text) AS j FROM commands
     WHERE import_hash IN (SELECT x::bigint FROM jsonb_array_elements_text($1::jsonb) x)`,
    [JSON.stringify(hashes)],
  )
  const present = new Set(res.rows[0]?.j ?? [])
  if (byContent) {
    const pairs = rows.map((r, i) => [textIds.get(r.command), r.startedAt, hashes[i]])
    const same = await tx.query<{ j: string[] | null }>(
      `SELECT json_agg(DISTINCT p->>2) AS j FROM jsonb_array_elements($1::jsonb) p
       WHERE EXISTS (SELECT 1 FROM commands c
                     WHERE c.text_id = (p->>0)::bigint AND c.started_at = (p->>1)::bigint)`,
      [JSON.stringify(pairs)],
    )
    for (const h of same.rows[0]?.j ?? []) present.add(h)
  }
  return present
}

/** COPY's text format: tab-separated, `\N` for null, backslash escapes. */
function copyText(items: Array<[BulkRow, Map<string, number>, string]>): string {
  const esc = (v: string | number | null) =>
    v === null
      ? '\\N'
      : typeof v === 'number'
        ? String(v)
        : v.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!)
  let out = ''
  for (const [r, ids, hash] of items) {
    out +=
      [
        ids.get(r.command)!,
        esc(r.cwd),
        esc(r.exitCode),
        r.startedAt,
        esc(r.durationMs),
        esc(r.shell),
        esc(r.host),
        esc(r.sessionId),
        esc(r.ptyId),
        esc(r.source),
        hash,
      ].join('\t') + '\n'
  }
  return out
}

const COPY_ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
}

async function addSessions(tx: Transaction, rows: BulkRow[]): Promise<void> {
  const first = new Map<string, BulkRow>()
  for (const r of rows) if (r.sessionId && !first.has(r.sessionId)) first.set(r.sessionId, r)
  if (!first.size) return
  await tx.query(
    `INSERT INTO sessions (id, kind, started_at, host, shell)
     SELECT s->>0, CASE WHEN s->>0 LIKE 'import:%' THEN 'import' ELSE 'terminal' END,
       (s->>1)::bigint, s->>2, s->>3
     FROM jsonb_array_elements($1::jsonb) s
     ON CONFLICT (id) DO NOTHING`,
    [JSON.stringify([...first].map(([id, r]) => [id, r.startedAt, r.host, r.shell]))],
  )
}

/** Each text's uses, successes, failures and latest run, computed here, added in one UPDATE. */
async function bumpCounters(
  tx: Transaction,
  rows: BulkRow[],
  textIds: Map<string, number>,
): Promise<void> {
  const agg = new Map<number, [number, number, number, number]>()
  for (const r of rows) {
    const id = textIds.get(r.command)!
    const a = agg.get(id) ?? [0, 0, 0, 0]
    a[0]++
    if (r.exitCode === 0) a[1]++
    else if (r.exitCode !== null) a[2]++
    a[3] = Math.max(a[3], r.startedAt)
    agg.set(id, a)
  }
  await tx.query(
    `WITH a AS MATERIALIZED (
       SELECT (e->>0)::bigint AS id, (e->>1)::int AS n, (e->>2)::int AS ok, (e->>3)::int AS fail,
              (e->>4)::bigint AS last
       FROM jsonb_array_elements($1::jsonb) e)
     UPDATE command_texts t SET uses = t.uses + a.n, ok_uses = t.ok_uses + a.ok,
       fail_uses = t.fail_uses + a.fail, last_used_at = greatest(t.last_used_at, a.last)
     FROM a WHERE t.id = a.id`,
    [JSON.stringify([...agg].map(([id, a]) => [id, ...a]))],
  )
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
