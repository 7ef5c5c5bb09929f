import { useEffect, useState } from 'react'
import type { TelemetryView as View } from '../../../../contract'
import { errorMessage, type Api } from '../../api/client'

const CHOICES: Array<['aiDecisions' | 'aiRunOutcomes' | 'commandText', string]> = [
  [
    'aiDecisions',
    'what you do with AI suggestions (ran, edited, copied, cancelled, blocked), the model, its latency and risk',
  ],
  ['aiRunOutcomes', 'how commands from AI suggestions ended (exit code, duration)'],
  ['commandText', 'the suggested commands themselves, with secrets redacted'],
]

/**
 * What this app sends to each team's server: what the team asked for (its setting, from the
 * team's policy document) and exactly what reached the server lately.
 */
export function TelemetryView({ api }: { api: Api }) {
  const [view, setView] = useState<View | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    let live = true
    api.call('library:telemetry', {}).then(
      (v) => live && setView(v),
      (err: unknown) => live && setError(errorMessage(err)),
    )
    return () => {
      live = false
    }
  }, [api])
  if (error) return <p role="alert">{error}</p>
  if (!view) return <p className="muted">Loading…</p>
  return (
    <div className="telemetry" data-testid="telemetry-view">
      <h3>What this app sends to your teams</h3>
      {view.teams.length === 0 && <p className="muted">You are in no team: nothing is sent.</p>}
      {view.teams.map(({ team, server, setting }) => (
        <section key={team} aria-label={`Team ${team}`} data-testid="telemetry-team">
          <h4>
            {team} <span className="muted">({server})</span>
          </h4>
          <p>
            Always, for the team’s audit log: runs of team patterns, approval requests, coding
            agents’ commands. Never: command output, file contents, the words of your AI requests.
          </p>
          <ul>
            {CHOICES.map(([key, label]) => (
              <li key={key}>
                {setting.telemetry[key] ? 'Sent: ' : 'Not sent: '}
                {label}
              </li>
            ))}
          </ul>
          <p className="muted">
            {setting.chosen
              ? `Chosen by ${setting.updatedBy ?? 'an admin'}${setting.updatedAt ? ` on ${new Date(setting.updatedAt).toLocaleString()}` : ''}.`
              : 'The team has not chosen: only the audit trail is sent.'}
          </p>
        </section>
      ))}
      <h3>Sent lately</h3>
      {view.sent.length === 0 ? (
        <p className="muted">Nothing yet.</p>
      ) : (
        <ol className="telemetry-sent">
          {view.sent.slice(0, 50).map((s) => (
            <li key={`${s.team}/${s.event.id}`}>
              <span className="muted">
                {new Date(s.at).toLocaleString()} · {s.team} · {s.event.kind}
              </span>
              <pre>{JSON.stringify(s.event, null, 2)}</pre>
            </li>
          ))}
        </ol>
      )}
    </div>
  )
}
