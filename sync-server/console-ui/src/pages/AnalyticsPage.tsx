import { useState, type ReactNode } from 'react'
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts'
import { SUGGESTION_DECISIONS, type Analytics } from '../../../../contract/console'
import { get } from '../api'
import { Empty, Head, Loading, Page } from '../ui/bits'
import { useLoad } from '../ui/hooks'

const PALETTES = {
  light: {
    ran: '#1a7f37',
    edited: '#0969da',
    copied: '#8250df',
    cancelled: '#6e7781',
    blocked: '#cf222e',
    bar: '#0969da',
    fail: '#cf222e',
    text: '#1f2328',
    grid: '#d0d7de',
  },
  dark: {
    ran: '#3fb950',
    edited: '#58a6ff',
    copied: '#bc8cff',
    cancelled: '#8b949e',
    blocked: '#ff7b72',
    bar: '#58a6ff',
    fail: '#ff7b72',
    text: '#e6edf3',
    grid: '#30363d',
  },
}
const RISK_COLORS: Record<string, string> = {
  safe: '#2da44e',
  moderate: '#bf8700',
  high: '#d1242f',
  critical: '#8c1d18',
  unknown: '#6e7781',
}

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`
const ms = (x: number | null) =>
  x === null ? '—' : x >= 1000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`

/** Usage computed on the server from members' client events (what the team chose to send). */
export function AnalyticsPage({ theme }: { theme: 'light' | 'dark' }) {
  const [days, setDays] = useState(30)
  const data = useLoad(() => get<Analytics>(`/analytics?days=${days}`), String(days))
  const c = PALETTES[theme]
  const a = data.data
  return (
    <Page
      title="Analytics"
      actions={
        <label>
          Period{' '}
          <select value={days} onChange={(e) => setDays(Number(e.target.value))}>
            <option value={7}>last 7 days</option>
            <option value={30}>last 30 days</option>
            <option value={90}>last 90 days</option>
            <option value={365}>last year</option>
          </select>
        </label>
      }
    >
      <Loading error={data.error} loading={data.loading && !a} />
      {a && (
        <>
          <dl className="cards" data-testid="totals">
            <div>
              <dt>AI suggestions</dt>
              <dd>{a.totals.suggestions}</dd>
            </div>
            <div>
              <dt>Run as suggested</dt>
              <dd>
                {a.totals.accepted}{' '}
                {a.totals.suggestions > 0 && (
                  <small>({pct(a.totals.accepted / a.totals.suggestions)})</small>
                )}
              </dd>
            </div>
            <div>
              <dt>Commands run</dt>
              <dd>{a.totals.runs}</dd>
            </div>
            <div>
              <dt>Failed runs</dt>
              <dd>{a.totals.failedRuns}</dd>
            </div>
            <div>
              <dt>Blocked</dt>
              <dd>{a.totals.blocked}</dd>
            </div>
            <div>
              <dt>Suggestion latency p50 / p95</dt>
              <dd>
                {ms(a.latency.p50Ms)} / {ms(a.latency.p95Ms)}
              </dd>
            </div>
          </dl>

          <Chart
            title="AI suggestions per day, by what the member did"
            summary={`${a.totals.suggestions} suggestions over ${a.days} days`}
          >
            <BarChart data={a.suggestionsPerDay} margin={{ left: 0, right: 8 }}>
              <CartesianGrid stroke={c.grid} vertical={false} />
              <XAxis
                dataKey="day"
                tick={{ fill: c.text, fontSize: 11 }}
                tickFormatter={(d: string) => d.slice(5)}
              />
              <YAxis allowDecimals={false} tick={{ fill: c.text, fontSize: 11 }} width={40} />
              <Tooltip />
              <Legend />
              {SUGGESTION_DECISIONS.map((d) => (
                <Bar key={d} dataKey={d} stackId="s" fill={c[d]} isAnimationActive={false} />
              ))}
            </BarChart>
          </Chart>

          <div className="two">
            <Chart
              title="Acceptance rate per member"
              summary={a.acceptanceByMember.map((m) => `${m.user} ${pct(m.rate)}`).join(', ')}
            >
              <BarChart
                data={a.acceptanceByMember.slice(0, 15)}
                layout="vertical"
                margin={{ left: 8, right: 16 }}
              >
                <CartesianGrid stroke={c.grid} horizontal={false} />
                <XAxis
                  type="number"
                  domain={[0, 1]}
                  tickFormatter={pct}
                  tick={{ fill: c.text, fontSize: 11 }}
                />
                <YAxis
                  type="category"
                  dataKey="user"
                  width={90}
                  tick={{ fill: c.text, fontSize: 11 }}
                />
                <Tooltip formatter={(v) => pct(Number(v))} />
                <Bar
                  dataKey="rate"
                  name="ran as suggested"
                  fill={c.ran}
                  isAnimationActive={false}
                />
              </BarChart>
            </Chart>
            <Chart
              title="Latency of suggestions"
              summary={`p50 ${ms(a.latency.p50Ms)}, p95 ${ms(a.latency.p95Ms)}, ${a.latency.count} measured`}
            >
              <BarChart
                data={a.latency.buckets.map((b, i) => ({
                  ...b,
                  label: label(a.latency.buckets, i),
                }))}
                margin={{ right: 8 }}
              >
                <CartesianGrid stroke={c.grid} vertical={false} />
                <XAxis dataKey="label" tick={{ fill: c.text, fontSize: 10 }} interval={1} />
                <YAxis allowDecimals={false} tick={{ fill: c.text, fontSize: 11 }} width={40} />
                <Tooltip />
                <Bar dataKey="n" name="suggestions" fill={c.bar} isAnimationActive={false} />
              </BarChart>
            </Chart>
          </div>

          <h2>Acceptance per model</h2>
          {a.acceptanceByModel.length === 0 ? (
            <Empty>
              No AI decisions were sent in this period (see Settings: what members’ apps send).
            </Empty>
          ) : (
            <table className="grid" data-testid="by-model">
              <caption className="sr-only">Acceptance and latency per model</caption>
              <Head cols={['Model', 'Suggestions', 'Ran', 'Acceptance', 'p50', 'p95']} />
              <tbody>
                {a.acceptanceByModel.map((m) => (
                  <tr key={m.model}>
                    <th scope="row">{m.model}</th>
                    <td>{m.suggestions}</td>
                    <td>{m.ran}</td>
                    <td>{pct(m.rate)}</td>
                    <td>{ms(m.p50Ms)}</td>
                    <td>{ms(m.p95Ms)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}

          <div className="two">
            <Chart
              title="Most-run patterns"
              summary={
                a.topPatterns.map((p) => `${p.library}/${p.patternId} ${p.runs}`).join(', ') ||
                'none'
              }
            >
              <BarChart
                data={a.topPatterns.map((p) => ({ ...p, name: `${p.library}/${p.patternId}` }))}
                layout="vertical"
                margin={{ left: 8, right: 16 }}
              >
                <CartesianGrid stroke={c.grid} horizontal={false} />
                <XAxis type="number" allowDecimals={false} tick={{ fill: c.text, fontSize: 11 }} />
                <YAxis
                  type="category"
                  dataKey="name"
                  width={140}
                  tick={{ fill: c.text, fontSize: 11 }}
                />
                <Tooltip />
                <Bar dataKey="runs" fill={c.bar} isAnimationActive={false} />
                <Bar dataKey="failures" fill={c.fail} isAnimationActive={false} />
              </BarChart>
            </Chart>
            <Chart
              title="Risk of what ran"
              summary={a.riskOfRuns.map((r) => `${r.risk} ${r.n}`).join(', ')}
            >
              <BarChart data={a.riskOfRuns} margin={{ right: 8 }}>
                <CartesianGrid stroke={c.grid} vertical={false} />
                <XAxis dataKey="risk" tick={{ fill: c.text, fontSize: 11 }} />
                <YAxis allowDecimals={false} tick={{ fill: c.text, fontSize: 11 }} width={40} />
                <Tooltip />
                <Bar
                  dataKey="n"
                  name="runs"
                  isAnimationActive={false}
                  fill={c.bar}
                  shape={(p: {
                    x?: number
                    y?: number
                    width?: number
                    height?: number
                    payload?: { risk: string }
                  }) => (
                    <rect
                      x={p.x}
                      y={p.y}
                      width={p.width}
                      height={p.height}
                      fill={RISK_COLORS[p.payload?.risk ?? 'unknown']}
                    />
                  )}
                />
              </BarChart>
            </Chart>
          </div>

          <h2>What fails most</h2>
          <div className="two">
            <FailTable
              caption="Patterns that fail most"
              rows={a.failingPatterns.map((p) => ({
                name: `${p.library}/${p.patternId}`,
                failures: p.failures,
                of: p.runs,
                codes: p.exitCodes,
              }))}
            />
            <FailTable
              caption="Commands that fail most"
              rows={a.failingCommands.map((p) => ({
                name: p.command,
                failures: p.failures,
                of: null,
                codes: p.exitCodes,
              }))}
            />
          </div>
          <p className="muted small">
            Computed on the server in {Math.round(a.tookMs)} ms from the team’s daily rollups.
          </p>
        </>
      )}
    </Page>
  )
}

function label(buckets: Analytics['latency']['buckets'], i: number): string {
  const b = buckets[i]!
  if (b.upToMs === null) return `≥${ms(buckets[i - 1]?.upToMs ?? 0)}`
  return `<${ms(b.upToMs)}`
}

function Chart({
  title,
  summary,
  children,
}: {
  title: string
  summary: string
  children: ReactNode
}) {
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <div role="img" aria-label={`${title}: ${summary}`} className="chart-box">
        <ResponsiveContainer width="100%" height={240}>
          {children as React.ReactElement}
        </ResponsiveContainer>
      </div>
    </figure>
  )
}

function FailTable({
  caption,
  rows,
}: {
  caption: string
  rows: Array<{
    name: string
    failures: number
    of: number | null
    codes: Array<{ code: number; n: number }>
  }>
}) {
  return (
    <table className="grid">
      <caption>{caption}</caption>
      <Head cols={['What', 'Failures', 'Exit codes']} />
      <tbody>
        {rows.length === 0 && (
          <tr>
            <td colSpan={3} className="muted">
              No failures reported.
            </td>
          </tr>
        )}
        {rows.map((r) => (
          <tr key={r.name}>
            <th scope="row">
              <code>{r.name}</code>
            </th>
            <td>
              {r.failures}
              {r.of !== null ? ` of ${r.of}` : ''}
            </td>
            <td>{r.codes.map((c) => `${c.code} ×${c.n}`).join(', ')}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}
