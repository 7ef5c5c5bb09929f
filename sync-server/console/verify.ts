import type { AuditVerifyView } from '../../contract/console'
import type { ConsoleServices } from './services'

/** Verifies a team's chain against its stored signed checkpoints, newest named in the answer. */
export async function verifyTeam(s: ConsoleServices, team: string): Promise<AuditVerifyView> {
  const started = performance.now()
  const [report] = await s.admin('console').auditVerify({ team })
  const checkpoints = await s.deps.audit.checkpoints(team).catch(() => [])
  const newest = checkpoints.reduce<(typeof checkpoints)[number] | null>(
    (best, cp) => (!best || cp.seq > best.seq ? cp : best),
    null,
  )
  return {
    ok: report?.ok ?? false,
    records: report?.records ?? 0,
    firstSeq: report?.firstSeq ?? null,
    headSeq: report?.head?.seq ?? null,
    checkpointsChecked: report?.checkpointsChecked ?? 0,
    checkpoint: newest ? { seq: newest.seq, ts: newest.ts, kid: newest.kid } : null,
    problem: report?.problem ?? (report ? null : { where: 'log', reason: 'no report' }),
    checkedAt: s.now(),
    tookMs: Math.round(performance.now() - started),
  }
}
