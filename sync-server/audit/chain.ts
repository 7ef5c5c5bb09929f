import { createHash, sign, verify, type KeyObject } from 'node:crypto'
import {
  AUDIT_KINDS,
  auditCheckpointSchema,
  canonicalJson,
  type AuditCheckpoint,
  type AuditKind,
  type AuditRecord,
  type Role,
} from '../../contract/sync'
import type { SigningKey } from '../auth/keys'

/** What a caller asks to record; the log adds seq, ts, prev and hash. */
export interface AuditDraft {
  team: string
  kind: AuditKind
  actor: string
  role?: Role
  room?: string
  data?: Record<string, unknown>
}

export const GENESIS_HASH = '0'.repeat(64)

const KINDS = new Set<string>(AUDIT_KINDS)

export interface ChainHead {
  seq: number
  hash: string
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

/** Seals a draft onto a chain head: the record and its line (canonical JSON, no newline). */
export function sealRecord(
  draft: AuditDraft,
  head: ChainHead,
  now: Date,
): { record: AuditRecord; line: string } {
  const body: Omit<AuditRecord, 'hash'> = {
    v: 1,
    team: draft.team,
    seq: head.seq + 1,
    ts: now.toISOString(),
    kind: draft.kind,
    actor: draft.actor,
    ...(draft.role ? { role: draft.role } : {}),
    ...(draft.room ? { room: draft.room } : {}),
    data: draft.data ?? {},
    prev: head.hash,
  }
  const hash = sha256(canonicalJson(body))
  const record = { ...body, hash } as AuditRecord
  return { record, line: canonicalJson(record) }
}

/** The signed statement of a chain head. */
export function signCheckpoint(key: SigningKey, team: string, head: ChainHead): AuditCheckpoint {
  const body = { team, seq: head.seq, hash: head.hash, ts: new Date().toISOString(), kid: key.kid }
  const sig = sign(null, Buffer.from(canonicalJson(body)), key.privateKey).toString('base64url')
  return { ...body, sig }
}

export function checkpointSignatureValid(cp: AuditCheckpoint, key: KeyObject): boolean {
  const { sig, ...body } = cp
  try {
    return verify(null, Buffer.from(canonicalJson(body)), key, Buffer.from(sig, 'base64url'))
  } catch {
    return false
  }
}

export interface VerifyProblem {
  /** The first bad record's seq, when known. */
  seq?: number
  /** File and line (embedded mode) or `table audit_records` (Postgres). */
  where: string
  reason: string
}

export interface VerifyReport {
  team: string
  ok: boolean
  records: number
  firstSeq: number | null
  head: ChainHead | null
  checkpointsChecked: number
  problem?: VerifyProblem
}

export interface RawLine {
  line: string
  where: string
}

/**
 * Verifies one team's chain: every line is a well-formed record whose hash matches its canonical
 * content, seqs are consecutive, each `prev` is the previous record's hash, a chain that does not
 * start at seq 1 is anchored by a later `audit.retention` record, and every signed checkpoint
 * (stored ones and one the caller kept) matches a record, or the log was truncated.
 */
export async function verifyChain(
  team: string,
  lines: AsyncIterable<RawLine>,
  checkpoints: AuditCheckpoint[],
  publicKey: (kid: string) => Promise<KeyObject | null>,
): Promise<VerifyReport> {
  const report: VerifyReport = {
    team,
    ok: false,
    records: 0,
    firstSeq: null,
    head: null,
    checkpointsChecked: 0,
  }
  const fail = (problem: VerifyProblem): VerifyReport => ({ ...report, ok: false, problem })

  const expected = new Map<number, AuditCheckpoint[]>()
  for (const cp of checkpoints) {
    if (cp.team !== team)
      return fail({ where: 'checkpoint', reason: `checkpoint is for team "${cp.team}"` })
    const key = await publicKey(cp.kid)
    if (!key)
      return fail({ where: 'checkpoint', reason: `checkpoint signed by unknown key ${cp.kid}` })
    if (!checkpointSignatureValid(cp, key))
      return fail({ seq: cp.seq, where: 'checkpoint', reason: 'checkpoint signature is invalid' })
    const list = expected.get(cp.seq) ?? []
    list.push(cp)
    expected.set(cp.seq, list)
  }

  let prev: ChainHead | null = null
  let anchor: { seq: number; prev: string } | null = null
  for await (const { line, where } of lines) {
    let rec: Partial<AuditRecord> & Record<string, unknown>
    try {
      rec = JSON.parse(line) as typeof rec
      if (!rec || typeof rec !== 'object' || Array.isArray(rec)) throw new Error('not an object')
    } catch {
      return fail({ seq: prev ? prev.seq + 1 : undefined, where, reason: 'not a JSON record' })
    }
    const seq = rec.seq
    if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 1)
      return fail({ where, reason: 'record has no valid seq' })
    const hash = rec.hash
    if (
      rec.v !== 1 ||
      typeof hash !== 'string' ||
      typeof rec.prev !== 'string' ||
      typeof rec.ts !== 'string' ||
      !KINDS.has(String(rec.kind))
    )
      return fail({ seq, where, reason: 'record is missing fields' })
    if (rec.team !== team)
      return fail({ seq, where, reason: `record belongs to team "${rec.team}"` })
    if (!hashMatches(line, rec, hash))
      return fail({ seq, where, reason: 'hash does not match the record (edited)' })
    if (prev === null) {
      report.firstSeq = seq
      if (seq !== 1 || rec.prev !== GENESIS_HASH) anchor = { seq, prev: rec.prev }
    } else {
      if (seq !== prev.seq + 1)
        return fail({
          seq,
          where,
          reason: `seq ${seq} follows ${prev.seq} (records deleted or reordered)`,
        })
      if (rec.prev !== prev.hash)
        return fail({ seq, where, reason: 'prev is not the hash of the record before it' })
    }
    if (anchor && rec.kind === 'audit.retention') {
      const d = rec.data as Record<string, unknown> | undefined
      if (d?.keptFromSeq === anchor.seq && d?.keptFromPrev === anchor.prev) anchor = null
    }
    for (const cp of expected.size ? (expected.get(seq) ?? []) : []) {
      if (cp.hash !== hash)
        return fail({ seq, where, reason: 'record differs from the signed checkpoint' })
      report.checkpointsChecked++
    }
    prev = { seq, hash }
    report.records++
  }
  report.head = prev
  if (anchor)
    return fail({
      seq: anchor.seq,
      where: 'start of log',
      reason: `the log starts at seq ${anchor.seq} but no retention record accounts for the earlier records`,
    })
  for (const [seq] of expected) {
    if (prev === null || seq > prev.seq)
      return fail({
        seq: (prev?.seq ?? 0) + 1,
        where: 'end of log',
        reason: `the log ends at seq ${prev?.seq ?? 0} but a signed checkpoint covers seq ${seq} (newest records removed)`,
      })
  }
  report.ok = true
  return report
}

/**
 * Whether `hash` is the hash of the record's canonical content. Stored lines are canonical JSON
 * with `hash` between `data` and `kind`, so the content's encoding is the line without that
 * member: hashing that text skips re-encoding (1M records verify in seconds). A line that is
 * not byte-for-byte canonical (re-formatted by some tool) gets the full re-encoding.
 */
function hashMatches(line: string, rec: Record<string, unknown>, hash: string): boolean {
  const member = `,"hash":"${hash}"`
  const at = line.lastIndexOf(member)
  if (at > 0 && sha256(line.slice(0, at) + line.slice(at + member.length)) === hash) return true
  const { hash: _hash, ...body } = rec
  try {
    return sha256(canonicalJson(body)) === hash
  } catch {
    return false
  }
}

/** Parses a checkpoint (a stored line or a file the app kept); throws with the reason. */
export function parseCheckpoint(text: string): AuditCheckpoint {
  return auditCheckpointSchema.parse(JSON.parse(text))
}
