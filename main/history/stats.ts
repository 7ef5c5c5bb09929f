import type { PGlite } from '@electric-sql/pglite'
import type { AiDecision, HistoryFilter, HistoryStats } from '../../contract/history'
import { filterSql } from './filters'

type Top = HistoryStats['mostUsed'][number]

/** Usage, failure, AI acceptance and risk figures (over the commands matching the filter). */
export async function computeStats(db: PGlite, filter?: HistoryFilter): Promise<HistoryStats> {
  const f = filterSql(filter)
  const totals = await db.query<{ total: number; distinct_texts: number; failed: number }>(
    `SELECT count(*)::int AS total, count(DISTINCT c.text_id)::int AS distinct_texts,
            count(*) FILTER (WHERE c.exit_code <> 0)::int AS failed
     FROM commands c WHERE ${f.sql}`,
    f.params,
  )
  const per = `SELECT t.text AS command, count(*)::int AS uses,
                 count(*) FILTER (WHERE c.exit_code <> 0)::int AS failures
               FROM commands c JOIN command_texts t ON t.id = c.text_id WHERE ${f.sql}
               GROUP BY t.text`
  const mostUsed = await db.query<Omit<Top, 'failureRate'>>(
    `SELECT * FROM (${per}) p ORDER BY uses DESC, command LIMIT 10`,
    f.params,
  )
  const mostFailing = await db.query<Omit<Top, 'failureRate'>>(
    `SELECT * FROM (${per}) p WHERE uses >= 3 AND failures > 0
     ORDER BY failures::float8 / uses DESC, uses DESC LIMIT 10`,
    f.params,
  )
  // AI requests: within the time range when one is given (other filters concern commands).
  const aiParams = [filter?.since ?? 0, filter?.until ?? Number.MAX_SAFE_INTEGER]
  const decisions = await db.query<{ decision: string | null; n: number }>(
    `SELECT decision, count(*)::int AS n FROM ai_requests
     WHERE created_at >= $1 AND created_at < $2 GROUP BY decision`,
    aiParams,
  )
  const risks = await db.query<{ risk: string | null; n: number }>(
    `SELECT risk, count(*)::int AS n FROM ai_requests
     WHERE created_at >= $1 AND created_at < $2 GROUP BY risk`,
    aiParams,
  )
  const t = totals.rows[0] ?? { total: 0, distinct_texts: 0, failed: 0 }
  const counts: Record<AiDecision | 'undecided', number> = {
    ran: 0,
    edited: 0,
    copied: 0,
    cancelled: 0,
    blocked: 0,
    undecided: 0,
  }
  let requests = 0
  for (const row of decisions.rows) {
    const key = (row.decision ?? 'undecided') as keyof typeof counts
    if (key in counts) counts[key] += row.n
    requests += row.n
  }
  const decided = requests - counts.undecided
  const risk: HistoryStats['risk'] = { safe: 0, moderate: 0, high: 0, critical: 0, unknown: 0 }
  for (const row of risks.rows) {
    const key = (row.risk ?? 'unknown') as keyof typeof risk
    risk[key in risk ? key : 'unknown'] += row.n
  }
  const withRate = (rows: Omit<Top, 'failureRate'>[]): Top[] =>
    rows.map((r) => ({ ...r, failureRate: r.uses ? r.failures / r.uses : 0 }))
  const rate = (n: number) => (decided ? n / decided : 0)
  return {
    totalCommands: t.total,
    distinctCommands: t.distinct_texts,
    failedCommands: t.failed,
    failureRate: t.total ? t.failed / t.total : 0,
    mostUsed: withRate(mostUsed.rows),
    mostFailing: withRate(mostFailing.rows),
    ai: {
      requests,
      decisions: counts,
      acceptanceRate: rate(counts.ran),
      editedRate: rate(counts.edited),
      cancelledRate: rate(counts.cancelled),
    },
    risk,
  }
}
