import {
  LATENCY_BUCKETS_MS,
  SUGGESTION_DECISIONS,
  type Analytics,
  type SuggestionDecision,
} from '../../contract/console'
import type { Risk } from '../../contract/safety'
import type { SqlClient } from '../storage/sql-client'

const DAY_MS = 86_400_000
const TOP = 10

type Row = Record<string, unknown>
const num = (v: unknown) => Number(v ?? 0)

/**
 * The team's usage over the last `days` UTC days (today included), from the rollups the
 * `client_events` trigger maintains (`schema.ts`): a handful of indexed range scans over
 * per-day (and, for long periods, per-week) aggregates, however many raw events there are.
 */
export async function computeAnalytics(
  db: SqlClient,
  team: string,
  days: number,
  now = Date.now(),
): Promise<Analytics> {
  const started = performance.now()
  const today = Math.floor(now / DAY_MS)
  const from = today - days + 1
  // A client clock a little ahead still lands in the chart (tomorrow at most).
  const to = today + 1
  const where = 'team = $1 AND day BETWEEN $2 AND $3'
  const q = (sql: string, extra: unknown[] = []) =>
    db.query<Row>(sql, [team, from, to, ...extra]).then((r) => r.rows)
  // The wide rollups: whole weeks from the weekly tables, the ragged ends from the daily ones
  // ($4..$7 after the range; `extra` follows at $8).
  const split = weekSplit(from, to)
  const spanQ = (sql: string, extra: unknown[] = []) => q(sql, [...split, ...extra])
  const span = (table: string, cols: string) =>
    `(SELECT ${cols} FROM ${table}
       WHERE team = $1 AND (day BETWEEN $2 AND $4 OR day BETWEEN $5 AND $3)
     UNION ALL
     SELECT ${cols} FROM ${table}_week WHERE team = $1 AND week BETWEEN $6 AND $7) AS x`
  const sums = SUGGESTION_DECISIONS.map((d) => `sum(${d})::float8 AS ${d}`).join(', ')
  const [perDay, perMember, perModel, latency, outcomes, patterns, commands] = await Promise.all([
    q(`SELECT day, ${sums} FROM analytics_ai_day WHERE ${where} GROUP BY 1`),
    spanQ(
      `SELECT user_id, ${sums} FROM ${span('analytics_ai_member', `user_id, ${SUGGESTION_DECISIONS.join(', ')}`)} GROUP BY 1`,
    ),
    q(
      `SELECT model, ${sums}, sum(latency_sum)::float8 AS ls, sum(latency_n)::float8 AS ln
       FROM analytics_ai_model WHERE ${where} GROUP BY 1`,
    ),
    q(
      `SELECT model, bucket, sum(n)::float8 AS n FROM analytics_latency WHERE ${where} GROUP BY 1, 2`,
    ),
    q(
      `SELECT outcome, risk, sum(n)::float8 AS n, sum(failures)::float8 AS f
       FROM analytics_outcomes WHERE ${where} GROUP BY 1, 2`,
    ),
    // One pass over the patterns: the most run and the most failing.
    spanQ(
      `WITH g AS (
         SELECT library, pattern_id, sum(runs)::float8 AS runs, sum(failures)::float8 AS f
         FROM ${span('analytics_patterns', 'library, pattern_id, runs, failures')} GROUP BY 1, 2)
       (SELECT 'top' AS list, * FROM g ORDER BY runs DESC, library, pattern_id LIMIT ${TOP})
       UNION ALL
       (SELECT 'failing', * FROM g WHERE f > 0 ORDER BY f DESC, runs, library, pattern_id LIMIT ${TOP})`,
    ),
    spanQ(
      `SELECT command, sum(n)::float8 AS n FROM ${span('analytics_command_exits', 'command, n')}
       GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ${TOP}`,
    ),
  ])
  const top = patterns.filter((r) => r.list === 'top')
  const failing = patterns.filter((r) => r.list === 'failing')
  const [patternExits, commandExits] = await Promise.all([
    failing.length === 0
      ? []
      : q(
          `SELECT library, pattern_id, exit_code, sum(n)::float8 AS n FROM analytics_pattern_exits
           WHERE ${where} AND library || '/' || pattern_id = ANY($4::text[]) GROUP BY 1, 2, 3`,
          [failing.map((r) => `${String(r.library)}/${String(r.pattern_id)}`)],
        ),
    commands.length === 0
      ? []
      : spanQ(
          `SELECT command, exit_code, sum(n)::float8 AS n
           FROM ${span('analytics_command_exits', 'command, exit_code, n')}
           WHERE command = ANY($8::text[]) GROUP BY 1, 2`,
          [commands.map((r) => String(r.command))],
        ),
  ])

  const dayRows = new Map<number, Record<SuggestionDecision, number>>()
  for (let d = from; d <= today; d++) dayRows.set(d, zeroDecisions())
  for (const r of perDay) dayRows.set(num(r.day), decisionsOf(r))

  const members = new Map(perMember.map((r) => [String(r.user_id), decisionsOf(r)]))
  const models = new Map(perModel.map((r) => [String(r.model), decisionsOf(r)]))
  const latencyByModel = new Map<string, number[]>()
  const allBuckets = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0)
  for (const r of latency) {
    const b = Math.min(Math.max(num(r.bucket), 0), LATENCY_BUCKETS_MS.length)
    const list = latencyByModel.get(String(r.model)) ?? new Array<number>(allBuckets.length).fill(0)
    list[b]! += num(r.n)
    allBuckets[b]! += num(r.n)
    latencyByModel.set(String(r.model), list)
  }
  let latencySum = 0
  let latencyN = 0
  for (const r of perModel) {
    latencySum += num(r.ls)
    latencyN += num(r.ln)
  }

  const riskTotals = new Map<string, number>()
  let runs = 0
  let failedRuns = 0
  let blocked = 0
  for (const r of outcomes) {
    if (r.outcome === 'ran') {
      runs += num(r.n)
      failedRuns += num(r.f)
      riskTotals.set(String(r.risk), (riskTotals.get(String(r.risk)) ?? 0) + num(r.n))
    } else blocked += num(r.n)
  }
  const suggestionsPerDay = [...dayRows.entries()]
    .sort(([a], [b]) => a - b)
    .map(([d, row]) => ({ day: new Date(d * DAY_MS).toISOString().slice(0, 10), ...row }))
  const suggestions = suggestionsPerDay.reduce((n, d) => n + total(d), 0)
  const accepted = suggestionsPerDay.reduce((n, d) => n + d.ran, 0)
  blocked += suggestionsPerDay.reduce((n, d) => n + d.blocked, 0)

  const exitsOf = (rows: Row[], key: (r: Row) => string, want: string) =>
    rows
      .filter((r) => key(r) === want)
      .map((r) => ({ code: num(r.exit_code), n: num(r.n) }))
      .sort((a, b) => b.n - a.n || a.code - b.code)

  return {
    days,
    since: from * DAY_MS,
    until: (today + 1) * DAY_MS,
    totals: { suggestions, accepted, runs, failedRuns, blocked },
    suggestionsPerDay,
    acceptanceByMember: [...members.entries()]
      .map(([user, d]) => ({ user, suggestions: total(d), ran: d.ran, rate: rate(d) }))
      .sort((a, b) => b.suggestions - a.suggestions || a.user.localeCompare(b.user)),
    acceptanceByModel: [...models.entries()]
      .map(([model, d]) => {
        const buckets = latencyByModel.get(model)
        return {
          model,
          suggestions: total(d),
          ran: d.ran,
          rate: rate(d),
          p50Ms: buckets ? percentile(buckets, 0.5) : null,
          p95Ms: buckets ? percentile(buckets, 0.95) : null,
        }
      })
      .sort((a, b) => b.suggestions - a.suggestions || a.model.localeCompare(b.model)),
    topPatterns: top.map((r) => ({
      library: String(r.library),
      patternId: String(r.pattern_id),
      runs: num(r.runs),
      failures: num(r.f),
    })),
    failingPatterns: failing.map((r) => ({
      library: String(r.library),
      patternId: String(r.pattern_id),
      failures: num(r.f),
      runs: num(r.runs),
      exitCodes: exitsOf(
        patternExits,
        (x) => `${String(x.library)}/${String(x.pattern_id)}`,
        `${String(r.library)}/${String(r.pattern_id)}`,
      ),
    })),
    failingCommands: commands.map((r) => ({
      command: String(r.command),
      failures: num(r.n),
      exitCodes: exitsOf(commandExits, (x) => String(x.command), String(r.command)),
    })),
    riskOfRuns: (['safe', 'moderate', 'high', 'critical', 'unknown'] as const)
      .map((risk) => ({ risk: risk as Risk | 'unknown', n: riskTotals.get(risk) ?? 0 }))
      .filter((r) => r.n > 0 || r.risk !== 'unknown'),
    latency: {
      count: latencyN,
      meanMs: latencyN > 0 ? latencySum / latencyN : null,
      p50Ms: percentile(allBuckets, 0.5),
      p95Ms: percentile(allBuckets, 0.95),
      buckets: allBuckets.map((n, i) => ({ upToMs: LATENCY_BUCKETS_MS[i] ?? null, n })),
    },
    tookMs: performance.now() - started,
  }
}

/**
 * Splits days `from..to` into whole weeks (`day / 7`) and the days before and after them:
 * `[headEnd, tailStart, firstWeek, lastWeek]`, the head being `from..headEnd` and the tail
 * `tailStart..to` (either may be empty, as may the weeks).
 */
export function weekSplit(from: number, to: number): [number, number, number, number] {
  const firstWeek = Math.ceil(from / 7)
  const lastWeek = Math.floor((to + 1) / 7) - 1
  if (firstWeek > lastWeek) return [to, to + 1, 1, 0]
  return [firstWeek * 7 - 1, (lastWeek + 1) * 7, firstWeek, lastWeek]
}

function zeroDecisions(): Record<SuggestionDecision, number> {
  return { ran: 0, edited: 0, copied: 0, cancelled: 0, blocked: 0 }
}

function total(d: Record<SuggestionDecision, number>): number {
  return SUGGESTION_DECISIONS.reduce((n, k) => n + d[k], 0)
}

function rate(d: Record<SuggestionDecision, number>): number {
  const t = total(d)
  return t === 0 ? 0 : d.ran / t
}

function decisionsOf(r: Row): Record<SuggestionDecision, number> {
  const d = zeroDecisions()
  for (const k of SUGGESTION_DECISIONS) d[k] = num(r[k])
  return d
}

export const ROLLUP_TABLES = [
  'analytics_ai_day',
  'analytics_ai_member',
  'analytics_ai_model',
  'analytics_latency',
  'analytics_outcomes',
  'analytics_patterns',
  'analytics_pattern_exits',
  'analytics_command_exits',
  'analytics_ai_member_week',
  'analytics_patterns_week',
  'analytics_command_exits_week',
] as const

/**
 * Refreshes the planner's statistics of the rollups. Embedded PGlite has no autovacuum: without
 * this, plans made for empty tables (sorts spilling to disk) stay after a million events, and
 * answers take several times longer. The console runs it now and then (`analyzeEveryMs`).
 */
export async function refreshRollupStatistics(db: SqlClient): Promise<void> {
  await db.query(`ANALYZE ${ROLLUP_TABLES.join(', ')}`)
}

/**
 * A percentile from the histogram: bucket k holds latencies in [bound k-1, bound k) (the first
 * from 0, the last open-ended); the value is interpolated linearly inside the bucket that
 * reaches the rank, and the open bucket answers its lower bound.
 */
export function percentile(buckets: number[], p: number): number | null {
  const count = buckets.reduce((a, b) => a + b, 0)
  if (count === 0) return null
  const target = p * count
  let seen = 0
  for (let k = 0; k < buckets.length; k++) {
    const n = buckets[k]!
    if (n > 0 && seen + n >= target) {
      const lower = k === 0 ? 0 : LATENCY_BUCKETS_MS[k - 1]!
      const upper = LATENCY_BUCKETS_MS[k]
      if (upper === undefined) return lower
      // Whole milliseconds: the buckets are far coarser than that.
      return Math.round(lower + ((target - seen) / n) * (upper - lower))
    }
    seen += n
  }
  return LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1]!
}
