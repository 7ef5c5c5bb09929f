import { createReadStream, createWriteStream, existsSync } from 'node:fs'
import { chmod, mkdir, open, rename, rm } from 'node:fs/promises'
import { once } from 'node:events'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { pipeline } from 'node:stream/promises'
import { createGunzip, createGzip } from 'node:zlib'
import * as Y from 'yjs'
import type { AuditLog } from '../audit/audit-log'
import { verifyChain, type VerifyReport } from '../audit/chain'
import { isChainName } from '../audit/file-log'
import type { KeyRing } from '../auth/keys'
import type { SqlClient } from '../storage/sql-client'
import type { Storage } from '../storage/storage'

export const BACKUP_FORMAT = 'cmdai-sync-backup'

/** The tables copied row for row (documents and audit are handled on their own). */
const TABLES = ['teams', 'members', 'tokens', 'signing_keys', 'client_events'] as const
type Table = (typeof TABLES)[number]

type Line =
  | { t: 'header'; format: string; version: 1; createdAt: string; source: string }
  | { t: 'row'; table: Table; row: Record<string, unknown> }
  | { t: 'doc'; room: string; state: string }
  | { t: 'audit'; team: string; line: string }
  | { t: 'checkpoint'; team: string; line: string }
  | { t: 'end'; counts: Record<string, number> }

export interface BackupCounts {
  [kind: string]: number
}

/**
 * Writes a consistent backup: every table row, each document as one merged state, every audit
 * chain and checkpoint. `snapshot` runs the reads in one transaction that excludes writers (the
 * running server passes its group commit, so no change lands half in the backup). The file is
 * gzip'd JSON lines, 0600 (it holds the signing keys), written to a temp name and renamed.
 */
export async function writeBackup(
  out: string,
  deps: {
    storage: Storage
    audit: AuditLog
    snapshot: <T>(fn: (tx: SqlClient) => Promise<T>) => Promise<T>
  },
): Promise<BackupCounts> {
  const tmp = `${out}.tmp-${process.pid}`
  const counts: BackupCounts = {}
  const count = (k: string) => (counts[k] = (counts[k] ?? 0) + 1)
  const gzip = createGzip()
  const written = pipeline(gzip, createWriteStream(tmp, { flags: 'w', mode: 0o600 }))
  // Streamed (an audit log can be large), waiting for the file when the gzip buffer is full.
  const push = async (l: Line) => {
    if (!gzip.write(JSON.stringify(l) + '\n')) await once(gzip, 'drain')
  }
  try {
    await deps.snapshot(async (tx) => {
      await push({
        t: 'header',
        format: BACKUP_FORMAT,
        version: 1,
        createdAt: new Date().toISOString(),
        source: deps.storage.kind,
      })
      for (const table of TABLES) {
        const r = await tx.query<Record<string, unknown>>(`SELECT * FROM ${table}`)
        for (const row of r.rows) {
          await push({ t: 'row', table, row: normalizeRow(row) })
          count(table)
        }
      }
      for (const { room } of await deps.storage.listRooms(tx)) {
        const doc = new Y.Doc()
        for (const u of await deps.storage.loadDocument(room, tx)) Y.applyUpdate(doc, u)
        await push({
          t: 'doc',
          room,
          state: Buffer.from(Y.encodeStateAsUpdate(doc)).toString('base64'),
        })
        doc.destroy()
        count('documents')
      }
      for (const team of await auditTeams(deps.audit, tx)) {
        for await (const { line } of auditLines(deps.audit, team, tx)) {
          await push({ t: 'audit', team, line })
          count('auditRecords')
        }
        for (const cp of await deps.audit.checkpoints(team)) {
          await push({ t: 'checkpoint', team, line: JSON.stringify(cp) })
          count('checkpoints')
        }
      }
      await push({ t: 'end', counts })
    })
    gzip.end()
    await written
  } catch (err) {
    gzip.destroy()
    await written.catch(() => {})
    await rm(tmp, { force: true })
    throw err
  }
  await chmod(tmp, 0o600)
  await rename(tmp, out)
  return counts
}

/** In Postgres mode the audit log is read inside the snapshot transaction. */
async function auditTeams(audit: AuditLog, tx: SqlClient): Promise<string[]> {
  if (audit.kind === 'file') return audit.teams()
  const r = await tx.query<{ team: string }>('SELECT team FROM audit_heads ORDER BY team')
  return r.rows.map((row) => row.team)
}

async function* auditLines(
  audit: AuditLog,
  team: string,
  tx: SqlClient,
): AsyncGenerator<{ line: string }> {
  if (audit.kind === 'file') {
    yield* audit.lines(team)
    return
  }
  for (let after = 0; ;) {
    const r = await tx.query<{ seq_text: string; line: string }>(
      'SELECT seq::text AS seq_text, line FROM audit_records WHERE team = $1 AND seq > $2 ORDER BY seq LIMIT 5000',
      [team, after],
    )
    for (const row of r.rows) yield row
    if (r.rows.length < 5000) return
    after = Number(r.rows[r.rows.length - 1]!.seq_text)
  }
}

function normalizeRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(row)) out[k] = typeof v === 'bigint' ? Number(v) : v
  return out
}

export interface RestoreResult {
  counts: BackupCounts
  verify: VerifyReport[]
}

/**
 * Restores a backup into an empty server (fresh data dir or empty database), then verifies every
 * audit chain. Refuses a target that already holds teams, documents or audit records, and a file
 * that is not a complete backup (no `end` line): nothing is half-restored over existing data.
 */
export async function restoreBackup(
  file: string,
  deps: { storage: Storage; audit: AuditLog; keys: () => Promise<KeyRing>; auditDir?: string },
): Promise<RestoreResult> {
  const existing = await deps.storage.sql.query<{ n: number }>(
    `SELECT (SELECT count(*) FROM teams) + (SELECT count(*) FROM doc_updates)
          + (SELECT count(*) FROM audit_records) + (SELECT count(*) FROM signing_keys) AS n`,
  )
  if (Number(existing.rows[0]?.n ?? 0) > 0 || (await deps.audit.teams()).length > 0)
    throw new Error(
      'The target already holds data: restore into a new --data dir or an empty database',
    )
  const parsed = await readBackup(file)
  const counts: BackupCounts = {}
  const count = (k: string) => (counts[k] = (counts[k] ?? 0) + 1)
  const audits = new Map<string, string[]>()
  await deps.storage.transaction(async (tx) => {
    for (const l of parsed) {
      if (l.t === 'row') {
        const cols = Object.keys(l.row)
        if (
          !(TABLES as readonly string[]).includes(l.table) ||
          cols.some((c) => !/^[a-z_]+$/.test(c))
        )
          throw new Error(`backup: bad row for ${l.table}`)
        await tx.query(
          `INSERT INTO ${l.table} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
          cols.map((c) => l.row[c]),
        )
        count(l.table)
      } else if (l.t === 'doc') {
        await deps.storage.appendUpdates(
          [{ room: l.room, data: new Uint8Array(Buffer.from(l.state, 'base64')) }],
          tx,
        )
        count('documents')
      } else if (l.t === 'audit') {
        if (!isChainName(l.team)) throw new Error(`backup: bad audit chain name ${l.team}`)
        const list = audits.get(l.team) ?? []
        list.push(l.line)
        audits.set(l.team, list)
        count('auditRecords')
      }
    }
    if (deps.audit.kind === 'sql') {
      for (const [team, lines] of audits) {
        for (const line of lines) {
          const rec = JSON.parse(line) as { seq: number; ts: string }
          await tx.query(
            'INSERT INTO audit_records (team, seq, ts, line) VALUES ($1, $2, $3, $4)',
            [team, rec.seq, rec.ts, line],
          )
        }
        const last = JSON.parse(lines[lines.length - 1]!) as { seq: number; hash: string }
        await tx.query('INSERT INTO audit_heads (team, seq, hash) VALUES ($1, $2, $3)', [
          team,
          last.seq,
          last.hash,
        ])
      }
    }
  })
  if (deps.audit.kind === 'file') {
    if (!deps.auditDir) throw new Error('restore: no audit directory')
    for (const [team, lines] of audits) {
      const dir = join(deps.auditDir, team)
      await mkdir(dir, { recursive: true, mode: 0o700 })
      const first = JSON.parse(lines[0]!) as { seq: number }
      const path = join(dir, `${String(first.seq).padStart(12, '0')}.jsonl`)
      if (existsSync(path)) throw new Error(`restore: ${path} exists`)
      const h = await open(path, 'w', 0o600)
      await h.write(lines.join('\n') + '\n')
      await h.close()
    }
  }
  for (const l of parsed)
    if (l.t === 'checkpoint') await deps.audit.saveCheckpoint(JSON.parse(l.line))
  const keys = await deps.keys()
  const verify: VerifyReport[] = []
  for (const team of await deps.audit.teams())
    verify.push(
      await verifyChain(team, deps.audit.lines(team), await deps.audit.checkpoints(team), (kid) =>
        keys.publicKey(kid),
      ),
    )
  return { counts, verify }
}

async function readBackup(file: string): Promise<Line[]> {
  const out: Line[] = []
  const rl = createInterface({
    input: createReadStream(file).pipe(createGunzip()),
    crlfDelay: Infinity,
  })
  let ended = false
  try {
    for await (const text of rl) {
      if (!text) continue
      const l = JSON.parse(text) as Line
      if (out.length === 0 && (l.t !== 'header' || l.format !== BACKUP_FORMAT || l.version !== 1))
        throw new Error('not a cmdai-sync backup (or from a newer version)')
      if (l.t === 'end') ended = true
      out.push(l)
    }
  } catch (err) {
    throw new Error(`Cannot read backup ${file}: ${(err as Error).message}`)
  }
  if (!ended)
    throw new Error(`Backup ${file} is incomplete (no end marker): refusing to restore it`)
  return out
}
