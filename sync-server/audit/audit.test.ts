import { generateKeyPairSync } from 'node:crypto'
import {
  appendFileSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { AuditRecord } from '../../contract/sync'
import type { SigningKey } from '../auth/keys'
import { signCheckpoint, verifyChain } from './chain'
import { exportRecords, toCef, toCsv, toSyslog } from './export'
import { FileAuditLog } from './file-log'

const root = mkdtempSync(join(tmpdir(), 'cmdai-audit-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const { privateKey, publicKey } = generateKeyPairSync('ed25519')
const key: SigningKey = { kid: 'k1', purpose: 'audit', privateKey, publicJwk: {}, createdAt: 0 }
const publicKeyOf = async (kid: string) => (kid === 'k1' ? publicKey : null)

let n = 0
async function freshLog(records = 20, options: { recordsPerSegment?: number } = {}) {
  const dir = join(root, `log${n++}`)
  const log = new FileAuditLog({ dir, ...options })
  for (let i = 0; i < records; i++)
    await log.append([
      {
        team: 'acme',
        kind: 'client.event',
        actor: `user${i % 3}`,
        data: { i, command: `echo ${i}` },
      },
    ])
  return { dir, log, teamDir: join(dir, 'acme') }
}

const segmentFiles = (teamDir: string) =>
  readdirSync(teamDir)
    .filter((f) => /^\d{12}\.jsonl$/.test(f))
    .sort()
    .map((f) => join(teamDir, f))

const verify = async (log: FileAuditLog, extra: ReturnType<typeof signCheckpoint>[] = []) =>
  verifyChain(
    'acme',
    log.lines('acme'),
    [...(await log.checkpoints('acme')), ...extra],
    publicKeyOf,
  )

function rewrite(file: string, fn: (lines: string[]) => string[]): void {
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean)
  writeFileSync(file, fn(lines).join('\n') + '\n')
}

describe('hash chain', () => {
  it('verifies an intact log across segments, with files private', async () => {
    const { log, teamDir } = await freshLog(25, { recordsPerSegment: 10 })
    expect(segmentFiles(teamDir)).toHaveLength(3)
    expect(statSync(segmentFiles(teamDir)[0]!).mode & 0o777).toBe(0o600)
    expect(statSync(teamDir).mode & 0o777).toBe(0o700)
    const r = await verify(log)
    expect(r).toMatchObject({ ok: true, records: 25, firstSeq: 1 })
    expect(r.head?.seq).toBe(25)
  })

  it('detects an edited record and names it', async () => {
    const { log, teamDir } = await freshLog()
    rewrite(segmentFiles(teamDir)[0]!, (lines) =>
      lines.map((l, i) => (i === 6 ? l.replace('"i":6', '"i":66') : l)),
    )
    const r = await verify(log)
    expect(r.ok).toBe(false)
    expect(r.problem).toMatchObject({ seq: 7, reason: expect.stringMatching(/edited/) })
    expect(r.problem?.where).toMatch(/acme\/000000000001\.jsonl:7/)
  })

  it('detects an edit that recomputes the record hash (the next record still points at the old one)', async () => {
    const { log, teamDir } = await freshLog()
    const { createHash } = await import('node:crypto')
    const { canonicalJson } = await import('../../contract/sync')
    rewrite(segmentFiles(teamDir)[0]!, (lines) =>
      lines.map((l, i) => {
        if (i !== 4) return l
        const { hash: _old, ...body } = JSON.parse(l) as AuditRecord
        const forged = { ...body, actor: 'mallory' }
        return canonicalJson({
          ...forged,
          hash: createHash('sha256').update(canonicalJson(forged)).digest('hex'),
        })
      }),
    )
    const r = await verify(log)
    expect(r.problem).toMatchObject({ seq: 6, reason: expect.stringMatching(/prev/) })
  })

  it('detects deleted and reordered records', async () => {
    const a = await freshLog()
    rewrite(segmentFiles(a.teamDir)[0]!, (lines) => lines.filter((_, i) => i !== 9))
    expect((await verify(a.log)).problem).toMatchObject({
      seq: 11,
      reason: expect.stringMatching(/deleted or reordered/),
    })
    const b = await freshLog()
    rewrite(segmentFiles(b.teamDir)[0]!, (lines) => {
      const copy = [...lines]
      ;[copy[3], copy[4]] = [copy[4]!, copy[3]!]
      return copy
    })
    expect((await verify(b.log)).problem?.seq).toBe(5)
    const c = await freshLog(25, { recordsPerSegment: 10 })
    rmSync(segmentFiles(c.teamDir)[0]!)
    expect((await verify(c.log)).problem?.reason).toMatch(/no retention record/)
  })

  it('detects truncation of the newest records with a checkpoint the app kept', async () => {
    const { log, teamDir } = await freshLog()
    const kept = signCheckpoint(key, 'acme', await log.head('acme'))
    expect((await verify(log, [kept])).ok).toBe(true)
    await log.close()
    rewrite(segmentFiles(teamDir)[0]!, (lines) => lines.slice(0, 17))
    const r = await verify(log, [kept])
    expect(r.ok).toBe(false)
    expect(r.problem?.reason).toMatch(/ends at seq 17 .* seq 20/)
    // A forged checkpoint (signature of another body) is itself reported.
    const forged = { ...kept, seq: 17 }
    expect((await verify(log, [forged])).problem?.reason).toMatch(/signature is invalid/)
    expect((await verify(log, [{ ...kept, kid: 'nope' }])).problem?.reason).toMatch(/unknown key/)
  })

  it('stored checkpoints catch a truncation too, and a rebuilt tail does not match them', async () => {
    const { log, teamDir } = await freshLog(10)
    await log.saveCheckpoint(signCheckpoint(key, 'acme', await log.head('acme')))
    await log.close()
    rewrite(segmentFiles(teamDir)[0]!, (lines) => lines.slice(0, 9))
    const fresh = new FileAuditLog({ dir: join(teamDir, '..') })
    await fresh.append([{ team: 'acme', kind: 'client.event', actor: 'mallory', data: {} }])
    const r = await verifyChain(
      'acme',
      fresh.lines('acme'),
      await fresh.checkpoints('acme'),
      publicKeyOf,
    )
    expect(r.problem).toMatchObject({ seq: 10, reason: expect.stringMatching(/checkpoint/) })
  })

  it('cuts a torn last line after a crash and continues the chain', async () => {
    const { dir, log, teamDir } = await freshLog(5)
    await log.close()
    appendFileSync(segmentFiles(teamDir)[0]!, '{"actor":"half-writ')
    const reopened = new FileAuditLog({ dir })
    await reopened.append([{ team: 'acme', kind: 'client.event', actor: 'after', data: {} }])
    const r = await verifyChain('acme', reopened.lines('acme'), [], publicKeyOf)
    expect(r).toMatchObject({ ok: true, records: 6 })
  })

  it('refuses to append after an unreadable record, and verify reports hostile lines without hanging', async () => {
    const { dir, log, teamDir } = await freshLog(3)
    await log.close()
    appendFileSync(segmentFiles(teamDir)[0]!, '\u0000\u001b[2Jnot json\n')
    const reopened = new FileAuditLog({ dir })
    await expect(
      reopened.append([{ team: 'acme', kind: 'client.event', actor: 'x', data: {} }]),
    ).rejects.toThrow(/unreadable/)
    const started = Date.now()
    const deep = '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000)
    for (const bad of ['[]', 'null', deep, JSON.stringify({ seq: 4 }), 'x'.repeat(2_000_000)]) {
      rewrite(segmentFiles(teamDir)[0]!, (lines) => [...lines.slice(0, 3), bad])
      const r = await verifyChain('acme', reopened.lines('acme'), [], publicKeyOf)
      expect(r.ok).toBe(false)
      expect(r.problem?.where).toMatch(/:4$/)
    }
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('retention removes whole old segments, records the cut, and the rest still verifies', async () => {
    const { log, teamDir } = await freshLog(25, { recordsPerSegment: 10 })
    const kept = signCheckpoint(key, 'acme', await log.head('acme'))
    const result = await log.retain('acme', Date.now() + 1_000, 'admin')
    expect(result).toMatchObject({
      removed: 20,
      keptFromSeq: 21,
      segments: ['000000000001.jsonl', '000000000011.jsonl'],
    })
    expect(segmentFiles(teamDir).map((f) => f.slice(-18))).toEqual(['000000000021.jsonl'])
    const r = await verify(log, [kept])
    expect(r).toMatchObject({ ok: true, firstSeq: 21, records: 6 })
    // Removing the retention record itself (or the kept segment's start) is caught.
    rewrite(segmentFiles(teamDir)[0]!, (lines) =>
      lines.filter((l) => !l.includes('audit.retention')),
    )
    expect((await verify(log)).ok).toBe(false)
  })
})

describe('exports', () => {
  const rec: AuditRecord = {
    v: 1,
    team: 'acme',
    seq: 7,
    ts: '2026-01-02T03:04:05.000Z',
    kind: 'write.refused',
    actor: 'ana',
    role: 'readonly',
    room: 'acme/lib',
    data: { note: '=HYPERLINK("x")|a=b\\c]"\n\u0000' },
    prev: 'a'.repeat(64),
    hash: 'b'.repeat(64),
  }

  it('writes CSV with formula injection neutralised and quoting per RFC 4180', () => {
    const evil = { ...rec, actor: '=cmd|/c calc!A1' }
    const line = toCsv(evil)
    expect(line).toContain(`'=cmd|/c calc!A1`)
    expect(line.split(',')[0]).toBe('7')
    expect(line).toContain('""note""')
  })

  it('writes RFC 5424 syslog with escaped structured data and one line per record', () => {
    const line = toSyslog(rec, 'host name\u001b')
    expect(line).toMatch(
      /^<108>1 2026-01-02T03:04:05.000Z hostname cmdai-sync - write.refused \[cmdai@32473 /,
    )
    expect(line).not.toContain('\n')
    expect(line).toContain('room="acme/lib"')
    expect(line).toContain('\uFEFF{"note":')
  })

  it('writes CEF with header and extension escaping', () => {
    const line = toCef({ ...rec, kind: 'write.refused' }, '1|2')
    expect(line.startsWith('CEF:0|cmdai|cmdai-sync|1\\|2|write.refused|write.refused|7|')).toBe(
      true,
    )
    expect(line).toContain('suser=ana')
    expect(line).toContain('\\=b')
    expect(line.includes('\n') || line.includes('\u0000')).toBe(false)
  })

  it('filters by time and keeps jsonl lines byte-for-byte', async () => {
    const { log } = await freshLog(5)
    const out: string[] = []
    for await (const chunk of exportRecords(log.lines('acme'), {
      format: 'jsonl',
      since: Date.now() - 60_000,
      hostname: 'h',
      version: '1',
    }))
      out.push(chunk)
    expect(out).toHaveLength(5)
    const none: string[] = []
    for await (const chunk of exportRecords(log.lines('acme'), {
      format: 'jsonl',
      until: 0,
      hostname: 'h',
      version: '1',
    }))
      none.push(chunk)
    expect(none).toEqual([])
    const lines = out.join('').trim().split('\n')
    const r = await verifyChain(
      'acme',
      (async function* () {
        for (const line of lines) yield { line, where: 'export' }
      })(),
      [],
      publicKeyOf,
    )
    expect(r.ok).toBe(true)
  })
})
