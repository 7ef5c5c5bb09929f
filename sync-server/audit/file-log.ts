import { createReadStream } from 'node:fs'
import { mkdir, open, readdir, readFile, unlink, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import {
  TEAM_NAME_RE,
  SERVER_AUDIT_CHAIN,
  type AuditCheckpoint,
  type AuditRecord,
} from '../../contract/sync'
import { ensurePrivateDir } from '../storage/paths'
import type { AuditLog, RetentionResult } from './audit-log'
import {
  GENESIS_HASH,
  parseCheckpoint,
  sealRecord,
  type AuditDraft,
  type ChainHead,
  type RawLine,
} from './chain'

export interface FileAuditLogOptions {
  /** `<data>/audit`. */
  dir: string
  /** A new segment starts after this many records... */
  recordsPerSegment?: number
  /** ...or when the current one is older than this (so retention can remove whole days). */
  maxSegmentAgeMs?: number
  /** fsync after each append (power-loss durability); off: durable against process crashes. */
  fsync?: boolean
}

interface TeamState {
  head: ChainHead
  segment: { name: string; count: number; firstTs: number; handle: FileHandle } | null
}

const SEGMENT_RE = /^(\d{12})\.jsonl$/
const CHECKPOINTS = 'checkpoints.jsonl'

const segmentName = (firstSeq: number) => `${String(firstSeq).padStart(12, '0')}.jsonl`

/** Reads a file's lines without loading it whole (1 MiB chunks). */
export async function* readLines(path: string): AsyncGenerator<string> {
  let rest = ''
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const text = rest + (chunk as string)
    let start = 0
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      yield text.slice(start, nl)
      start = nl + 1
    }
    rest = text.slice(start)
  }
  if (rest) yield rest
}

/**
 * The embedded-mode audit log: JSON-lines segment files under `<data>/audit/<team>/`, named by
 * the seq of their first record, so a SIEM shipper can tail them. Appends to one team are
 * serialised; the chain head is recovered at first use from the newest segment. A torn last line
 * (a crash during a write, never acknowledged) is cut off; any other unreadable record stops the
 * team's log with an error rather than writing past it.
 */
export class FileAuditLog implements AuditLog {
  readonly kind = 'file' as const
  private readonly states = new Map<string, Promise<TeamState>>()
  private readonly queues = new Map<string, Promise<unknown>>()
  private readonly recordsPerSegment: number
  private readonly maxSegmentAgeMs: number

  constructor(private readonly options: FileAuditLogOptions) {
    this.recordsPerSegment = options.recordsPerSegment ?? 10_000
    this.maxSegmentAgeMs = options.maxSegmentAgeMs ?? 24 * 3_600_000
    ensurePrivateDir(options.dir)
  }

  async append(drafts: AuditDraft[]): Promise<AuditRecord[]> {
    const byTeam = new Map<string, AuditDraft[]>()
    for (const d of drafts) {
      const list = byTeam.get(d.team) ?? []
      list.push(d)
      byTeam.set(d.team, list)
    }
    const out: AuditRecord[] = []
    for (const [team, list] of byTeam)
      out.push(...(await this.serial(team, () => this.write(team, list))))
    return out
  }

  async head(team: string): Promise<ChainHead> {
    return this.serial(team, async () => (await this.state(team)).head)
  }

  async teams(): Promise<string[]> {
    const entries = await readdir(this.options.dir, { withFileTypes: true }).catch(() => [])
    return entries
      .filter((e) => e.isDirectory() && isChainName(e.name))
      .map((e) => e.name)
      .sort()
  }

  async *lines(team: string): AsyncIterable<RawLine> {
    const dir = this.teamDir(team)
    for (const name of await this.segments(team)) {
      let n = 0
      for await (const line of readLines(join(dir, name))) {
        n++
        yield { line, where: `${team}/${name}:${n}` }
      }
    }
  }

  async *linesDescending(team: string, beforeSeq = Infinity): AsyncIterable<RawLine> {
    const dir = this.teamDir(team)
    for (const name of (await this.segments(team)).reverse()) {
      // Named by their first seq: a segment starting at or after the bound has nothing older.
      if (Number(SEGMENT_RE.exec(name)![1]) >= beforeSeq) continue
      const lines = (await readFile(join(dir, name), 'utf8')).split('\n')
      for (let i = lines.length - 1; i >= 0; i--) {
        const line = lines[i]!
        if (!line) continue
        const seq = Number(/"seq":(\d+)/.exec(line)?.[1] ?? NaN)
        if (seq >= beforeSeq) continue
        yield { line, where: `${team}/${name}:${i + 1}` }
      }
    }
  }

  async checkpoints(team: string): Promise<AuditCheckpoint[]> {
    const path = join(this.teamDir(team), CHECKPOINTS)
    const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return ''
      throw err
    })
    return text
      .split('\n')
      .filter(Boolean)
      .map((line, i) => {
        try {
          return parseCheckpoint(line)
        } catch {
          throw new Error(`${team}/${CHECKPOINTS}:${i + 1}: not a checkpoint`)
        }
      })
  }

  async saveCheckpoint(cp: AuditCheckpoint): Promise<void> {
    await this.serial(cp.team, async () => {
      await mkdir(this.teamDir(cp.team), { recursive: true, mode: 0o700 })
      const handle = await open(join(this.teamDir(cp.team), CHECKPOINTS), 'a', 0o600)
      try {
        await handle.write(JSON.stringify(cp) + '\n')
        if (this.options.fsync) await handle.datasync()
      } finally {
        await handle.close()
      }
    })
  }

  async retain(team: string, cutoffMs: number, actor: string): Promise<RetentionResult> {
    const result: RetentionResult = { team, removed: 0, segments: [], keptFromSeq: null }
    const segments = await this.segments(team)
    // The newest segment is never removed; older ones go while their newest record is old.
    const doomed: Array<{ name: string; count: number }> = []
    for (const name of segments.slice(0, -1)) {
      let last: AuditRecord | null = null
      let count = 0
      for await (const line of readLines(join(this.teamDir(team), name))) {
        count++
        last = JSON.parse(line) as AuditRecord
      }
      if (!last || Date.parse(last.ts) >= cutoffMs) break
      doomed.push({ name, count })
    }
    if (doomed.length === 0) return result
    const keptName = segments[doomed.length]!
    const first = await firstRecord(join(this.teamDir(team), keptName))
    result.segments = doomed.map((d) => d.name)
    result.removed = doomed.reduce((n, d) => n + d.count, 0)
    result.keptFromSeq = first.seq
    // Record the cut first: if the process dies before the files go, the chain is still whole.
    await this.append([
      {
        team,
        kind: 'audit.retention',
        actor,
        data: {
          cutoff: new Date(cutoffMs).toISOString(),
          removedRecords: result.removed,
          removedSegments: result.segments,
          keptFromSeq: first.seq,
          keptFromPrev: first.prev,
        },
      },
    ])
    for (const d of doomed) await unlink(join(this.teamDir(team), d.name))
    return result
  }

  async close(): Promise<void> {
    for (const [team] of this.states)
      await this.serial(team, async () => {
        const st = await this.state(team)
        st.segment = await closeSegment(st.segment)
      })
  }

  private teamDir(team: string): string {
    if (!isChainName(team)) throw new Error(`Invalid audit chain name "${team}"`)
    return join(this.options.dir, team)
  }

  private async segments(team: string): Promise<string[]> {
    const names = await readdir(this.teamDir(team)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [] as string[]
      throw err
    })
    return names.filter((n) => SEGMENT_RE.test(n)).sort()
  }

  private serial<T>(team: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(team) ?? Promise.resolve()
    const next = prev.then(fn, fn)
    this.queues.set(
      team,
      next.catch(() => {}),
    )
    return next
  }

  private state(team: string): Promise<TeamState> {
    let st = this.states.get(team)
    if (!st) {
      st = this.recover(team)
      this.states.set(team, st)
      st.catch(() => this.states.delete(team))
    }
    return st
  }

  /** Finds the head from the newest segment, cutting a torn final line. */
  private async recover(team: string): Promise<TeamState> {
    const dir = this.teamDir(team)
    await mkdir(dir, { recursive: true, mode: 0o700 })
    const segments = await this.segments(team)
    for (let i = segments.length - 1; i >= 0; i--) {
      const path = join(dir, segments[i]!)
      const text = await readFile(path, 'utf8')
      let body = text
      if (!text.endsWith('\n') && text.length > 0) {
        body = text.slice(0, text.lastIndexOf('\n') + 1)
        const handle = await open(path, 'r+')
        try {
          await handle.truncate(Buffer.byteLength(body))
        } finally {
          await handle.close()
        }
      }
      const lines = body.split('\n').filter(Boolean)
      const lastLine = lines[lines.length - 1]
      if (!lastLine) continue
      let rec: AuditRecord
      try {
        rec = JSON.parse(lastLine) as AuditRecord
        if (typeof rec.seq !== 'number' || typeof rec.hash !== 'string') throw new Error()
      } catch {
        throw new Error(
          `Audit log ${path}:${lines.length} is unreadable: run \`cmdai-sync audit verify\``,
        )
      }
      const first = JSON.parse(lines[0]!) as AuditRecord
      const handle = await open(path, 'a', 0o600)
      return {
        head: { seq: rec.seq, hash: rec.hash },
        segment: { name: segments[i]!, count: lines.length, firstTs: Date.parse(first.ts), handle },
      }
    }
    return { head: { seq: 0, hash: GENESIS_HASH }, segment: null }
  }

  private async write(team: string, drafts: AuditDraft[]): Promise<AuditRecord[]> {
    const st = await this.state(team)
    const now = new Date()
    if (
      st.segment &&
      (st.segment.count >= this.recordsPerSegment ||
        now.getTime() - st.segment.firstTs > this.maxSegmentAgeMs)
    )
      st.segment = await closeSegment(st.segment)
    if (!st.segment) {
      const name = segmentName(st.head.seq + 1)
      const handle = await open(join(this.teamDir(team), name), 'a', 0o600)
      st.segment = { name, count: 0, firstTs: now.getTime(), handle }
    }
    let head = st.head
    const records: AuditRecord[] = []
    const lines: string[] = []
    for (const d of drafts) {
      const sealed = sealRecord(d, head, now)
      records.push(sealed.record)
      lines.push(sealed.line)
      head = { seq: sealed.record.seq, hash: sealed.record.hash }
    }
    try {
      await st.segment.handle.write(lines.join('\n') + '\n')
      if (this.options.fsync) await st.segment.handle.datasync()
    } catch (err) {
      // A partial write may have left a torn line: recover from disk at the next append.
      await closeSegment(st.segment)
      this.states.delete(team)
      throw err
    }
    st.segment.count += records.length
    st.head = head
    return records
  }
}

/** Team chain names: a team, or the server's own chain. */
export function isChainName(name: string): boolean {
  return name === SERVER_AUDIT_CHAIN || TEAM_NAME_RE.test(name)
}

async function closeSegment(segment: TeamState['segment']): Promise<null> {
  await segment?.handle.close().catch(() => {})
  return null
}

async function firstRecord(path: string): Promise<AuditRecord> {
  for await (const line of readLines(path)) return JSON.parse(line) as AuditRecord
  throw new Error(`${path} is empty`)
}
