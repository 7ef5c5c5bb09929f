import { hostname } from 'node:os'
import { z } from 'zod'
import { auditQuerySchema, type AuditPage, type AuditVerifyView } from '../../../contract/console'
import type { AuditRecord } from '../../../contract/sync'
import { readPackageVersion } from '../../../main/config/paths'
import { EXPORT_FORMATS, exportRecords } from '../../audit/export'
import { SECURITY_HEADERS, parseInput, queryObject } from '../http'
import { ANSWERED, type ConsoleServices, type Route } from '../services'

/** Lines looked at per page at most, so one request stays bounded on a huge log. */
const MAX_SCAN = 200_000

const exportQuerySchema = z
  .object({
    format: z.enum(EXPORT_FORMATS),
    since: z.coerce.number().int().nonnegative().optional(),
    until: z.coerce.number().int().nonnegative().optional(),
  })
  .strict()

/** Browse and filter the team's audit records, verify the chain, export it. */
export function auditRoutes(
  s: ConsoleServices,
  verify: (team: string) => Promise<AuditVerifyView>,
): Route[] {
  return [
    {
      method: 'GET',
      path: '/audit',
      area: 'audit',
      handler: async ({ session, url }): Promise<AuditPage> => {
        const f = parseInput(auditQuerySchema, queryObject(url))
        const needle = f.q?.toLowerCase()
        const room = f.library ? `${session.team}/${f.library}` : null
        const records: AuditRecord[] = []
        let scanned = 0
        let lastSeq: number | null = null
        let exhausted = true
        for await (const { line } of s.deps.audit.linesDescending(session.team, f.before)) {
          if (records.length >= f.limit || scanned >= MAX_SCAN) {
            exhausted = false
            break
          }
          scanned++
          // Cheap checks on the text first: most lines fail them without being parsed.
          if (needle && !line.toLowerCase().includes(needle)) {
            lastSeq = seqOf(line) ?? lastSeq
            continue
          }
          let rec: AuditRecord
          try {
            rec = JSON.parse(line) as AuditRecord
          } catch {
            continue
          }
          lastSeq = rec.seq
          const t = Date.parse(rec.ts)
          if (f.actor && rec.actor !== f.actor) continue
          if (f.kind && rec.kind !== f.kind) continue
          if (room && rec.room !== room && rec.data?.library !== f.library) continue
          if (f.since !== undefined && t < f.since) continue
          if (f.until !== undefined && t >= f.until) continue
          records.push(rec)
        }
        return {
          records,
          next: exhausted || lastSeq === null || lastSeq <= 1 ? null : lastSeq,
          scanned,
        }
      },
    },
    {
      method: 'POST',
      path: '/audit/verify',
      area: 'audit',
      handler: ({ session }) => verify(session.team),
    },
    {
      method: 'GET',
      path: '/audit/export',
      area: 'audit',
      handler: async ({ session, url, res }) => {
        const q = parseInput(exportQuerySchema, queryObject(url))
        await s.record([
          {
            team: session.team,
            kind: 'audit.export',
            actor: session.user,
            role: session.role,
            data: {
              format: q.format,
              ...(q.since !== undefined ? { since: new Date(q.since).toISOString() } : {}),
              ...(q.until !== undefined ? { until: new Date(q.until).toISOString() } : {}),
            },
          },
        ])
        const ext = { jsonl: 'jsonl', csv: 'csv', syslog: 'log', cef: 'cef' }[q.format]
        res.writeHead(200, {
          ...SECURITY_HEADERS,
          'content-type':
            q.format === 'csv' ? 'text/csv; charset=utf-8' : 'text/plain; charset=utf-8',
          'content-disposition': `attachment; filename="audit-${session.team}.${ext}"`,
        })
        try {
          for await (const chunk of exportRecords(s.deps.audit.lines(session.team), {
            format: q.format,
            since: q.since,
            until: q.until,
            hostname: hostname(),
            version: readPackageVersion(),
          }))
            if (!res.write(chunk)) await new Promise((r) => res.once('drain', r))
          res.end()
        } catch {
          // Headers are out: cut the download short so it cannot pass for complete.
          res.destroy()
        }
        return ANSWERED
      },
    },
  ]
}

function seqOf(line: string): number | null {
  const m = /"seq":(\d+)/.exec(line)
  return m ? Number(m[1]) : null
}
