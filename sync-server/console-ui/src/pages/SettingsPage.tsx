import { useState } from 'react'
import type { SettingsView } from '../../../../contract/console'
import type { TeamTelemetry } from '../../../../contract/telemetry'
import { get, post } from '../api'
import { Loading, Note, Page, When } from '../ui/bits'
import { useAction, useLoad } from '../ui/hooks'

const OPTIONS: Array<[keyof Omit<TeamTelemetry, 'v'>, string, string]> = [
  [
    'aiDecisions',
    'What members do with AI suggestions',
    'ran, edited, copied, cancelled or blocked; the model; how long the suggestion took; its risk',
  ],
  ['aiRunOutcomes', 'How commands from AI suggestions ended', 'exit code and duration'],
  [
    'commandText',
    'The suggested commands themselves',
    'redacted of secrets in the app before they leave it',
  ],
]

/** What members' apps send (a team setting each app shows), and how long the audit log is kept. */
export function SettingsPage({ canEdit }: { canEdit: boolean }) {
  const settings = useLoad(() => get<SettingsView>('/settings'), 'settings')
  return (
    <Page title="Settings">
      <Loading error={settings.error} loading={settings.loading && !settings.data} />
      {settings.data && (
        <SettingsForm
          key="settings"
          view={settings.data}
          canEdit={canEdit}
          saved={settings.reload}
        />
      )}
    </Page>
  )
}

function SettingsForm({
  view,
  canEdit,
  saved,
}: {
  view: SettingsView
  canEdit: boolean
  saved(): void
}) {
  const [t, setT] = useState<TeamTelemetry>(view.telemetry.telemetry)
  const [days, setDays] = useState(view.retentionDays === null ? '' : String(view.retentionDays))
  const action = useAction()
  return (
    <>
      <Note note={action.note} />
      <fieldset className="stack-form" disabled={!canEdit || action.busy} data-testid="telemetry">
        <legend>What members’ apps send to this server</legend>
        <p>
          Always sent, for the audit log: runs of team patterns, approval requests and decisions,
          coding agents’ commands. Never sent: command output, file contents, the words of AI
          requests.
        </p>
        {OPTIONS.map(([key, label, detail]) => (
          <label key={key}>
            <input
              type="checkbox"
              checked={t[key]}
              onChange={(e) => setT({ ...t, [key]: e.target.checked })}
            />{' '}
            {label} <span className="muted">({detail})</span>
          </label>
        ))}
        <p className="muted small">
          {view.telemetry.chosen ? (
            <>
              Set by {view.telemetry.updatedBy}, <When t={view.telemetry.updatedAt} />. Each
              member’s app shows this setting and what it sent.
            </>
          ) : (
            'Not chosen yet: apps send only the audit trail.'
          )}
        </p>
        {canEdit && (
          <button
            type="button"
            className="primary"
            onClick={() =>
              void action
                .run(() => post('/settings/telemetry', t), 'Saved: members’ apps follow it now')
                .then((r) => r && saved())
            }
          >
            Save what apps send
          </button>
        )}
      </fieldset>
      <fieldset className="stack-form" disabled={!canEdit || action.busy}>
        <legend>Audit log retention</legend>
        <label>
          Keep records for (days; empty keeps everything)
          <input
            type="number"
            min={1}
            max={36500}
            value={days}
            onChange={(e) => setDays(e.target.value)}
          />
        </label>
        <p className="muted small">
          Whole old segments are removed and the cut is recorded, so the rest still verifies.
        </p>
        {canEdit && (
          <button
            type="button"
            onClick={() =>
              void action
                .run(
                  () => post('/settings/retention', { days: days ? Number(days) : null }),
                  'Retention saved',
                )
                .then((r) => r && saved())
            }
          >
            Save retention
          </button>
        )}
      </fieldset>
    </>
  )
}
