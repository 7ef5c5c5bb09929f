import { useState } from 'react'
import {
  WEBHOOK_EVENTS,
  type DeliveryView,
  type WebhookCreated,
  type WebhookEvent,
  type WebhookView,
} from '../../../../contract/console'
import { get, post, query } from '../api'
import { Copy, Empty, Head, Loading, Note, Page, When } from '../ui/bits'
import { useAction, useLoad } from '../ui/hooks'

const EVENT_LABELS: Record<WebhookEvent, string> = {
  'approval.requested': 'an approval is requested',
  'approval.decided': 'an approval is decided',
  'command.blocked': 'a critical command is blocked',
  'policy.changed': 'the policy changes',
  'audit.verify-failed': 'audit verification fails',
}

/** Slack (incoming webhook) and signed generic JSON notifications, with a delivery log. */
export function WebhooksPage() {
  const hooks = useLoad(() => get<{ webhooks: WebhookView[] }>('/webhooks'), 'hooks')
  const [selected, setSelected] = useState<string | null>(null)
  const log = useLoad(
    () =>
      get<{ deliveries: DeliveryView[] }>(`/webhooks/deliveries${query({ webhook: selected })}`),
    `log-${selected}`,
  )
  const action = useAction()
  const [secret, setSecret] = useState<{ id: string; secret: string } | null>(null)
  const [url, setUrl] = useState('')
  const [format, setFormat] = useState<'slack' | 'json'>('slack')
  const [events, setEvents] = useState<WebhookEvent[]>(['approval.requested', 'command.blocked'])
  const [description, setDescription] = useState('')
  const refresh = () => {
    hooks.reload()
    log.reload()
  }
  return (
    <Page
      title="Webhooks"
      actions={
        <button type="button" onClick={refresh}>
          Refresh
        </button>
      }
    >
      <Note note={action.note} />
      <Loading error={hooks.error} loading={hooks.loading && !hooks.data} />
      {hooks.data && hooks.data.webhooks.length === 0 && <Empty>No webhooks yet.</Empty>}
      {hooks.data && hooks.data.webhooks.length > 0 && (
        <table className="grid" data-testid="webhooks">
          <caption className="sr-only">Webhooks</caption>
          <Head cols={['Where', 'Format', 'On', 'Enabled', 'Last delivery', '']} />
          <tbody>
            {hooks.data.webhooks.map((h) => (
              <tr key={h.id} aria-selected={selected === h.id}>
                <th scope="row">
                  {h.url}
                  {h.description && <div className="muted small">{h.description}</div>}
                </th>
                <td>{h.format === 'slack' ? 'Slack' : 'JSON'}</td>
                <td>{h.events.map((e) => EVENT_LABELS[e]).join('; ')}</td>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Enabled: ${h.url}`}
                    checked={h.enabled}
                    onChange={(e) =>
                      void action
                        .run(() => post(`/webhooks/${h.id}`, { enabled: e.target.checked }))
                        .then(refresh)
                    }
                  />
                </td>
                <td>
                  {h.lastDelivery ? (
                    <>
                      {h.lastDelivery.status}, <When t={h.lastDelivery.at} />
                    </>
                  ) : (
                    '—'
                  )}
                </td>
                <td className="actions">
                  <button
                    type="button"
                    onClick={() =>
                      void action
                        .run(() => post(`/webhooks/${h.id}/test`), 'Test message queued')
                        .then(refresh)
                    }
                  >
                    Send a test
                  </button>
                  <button
                    type="button"
                    onClick={() => setSelected(selected === h.id ? null : h.id)}
                  >
                    {selected === h.id ? 'All deliveries' : 'Its deliveries'}
                  </button>
                  <button
                    type="button"
                    onClick={() =>
                      void action
                        .run(
                          () =>
                            post<{ secret?: string }>(`/webhooks/${h.id}`, { rotateSecret: true }),
                          'New secret issued',
                        )
                        .then((r) => r?.secret && setSecret({ id: h.id, secret: r.secret }))
                    }
                  >
                    New secret
                  </button>
                  <button
                    type="button"
                    className="danger"
                    onClick={() =>
                      confirm('Delete this webhook?') &&
                      void action
                        .run(() => post(`/webhooks/${h.id}/delete`), 'Deleted')
                        .then(refresh)
                    }
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {secret && (
        <div className="callout" role="status">
          <p>
            Signing secret (shown once): receivers check the <code>x-cmdai-signature</code> header
            with it.
          </p>
          <code className="token">{secret.secret}</code> <Copy text={secret.secret} />
        </div>
      )}
      <h2>Add a webhook</h2>
      <form
        className="stack-form"
        data-testid="webhook-form"
        onSubmit={(e) => {
          e.preventDefault()
          void action
            .run(
              () => post<WebhookCreated>('/webhooks', { url, format, events, description }),
              'Webhook added',
            )
            .then((r) => {
              if (r) {
                setSecret({ id: r.webhook.id, secret: r.secret })
                setUrl('')
              }
              refresh()
            })
        }}
      >
        <label>
          URL
          <input
            type="url"
            required
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            placeholder="https://hooks.slack.com/services/…"
          />
        </label>
        <fieldset>
          <legend>Format</legend>
          <label>
            <input
              type="radio"
              name="format"
              checked={format === 'slack'}
              onChange={() => setFormat('slack')}
            />{' '}
            Slack incoming webhook
          </label>
          <label>
            <input
              type="radio"
              name="format"
              checked={format === 'json'}
              onChange={() => setFormat('json')}
            />{' '}
            Generic JSON (HMAC-SHA256 signed)
          </label>
        </fieldset>
        <fieldset>
          <legend>Notify when</legend>
          {WEBHOOK_EVENTS.map((ev) => (
            <label key={ev}>
              <input
                type="checkbox"
                checked={events.includes(ev)}
                onChange={(e) =>
                  setEvents((list) =>
                    e.target.checked ? [...list, ev] : list.filter((x) => x !== ev),
                  )
                }
              />{' '}
              {EVENT_LABELS[ev]}
            </label>
          ))}
        </fieldset>
        <label>
          Description
          <input
            value={description}
            maxLength={200}
            onChange={(e) => setDescription(e.target.value)}
          />
        </label>
        <button type="submit" className="primary" disabled={action.busy || events.length === 0}>
          Add webhook
        </button>
      </form>
      <h2>Deliveries{selected ? ' of the selected webhook' : ''}</h2>
      {log.data && log.data.deliveries.length === 0 && <Empty>Nothing sent yet.</Empty>}
      {log.data && log.data.deliveries.length > 0 && (
        <table className="grid" data-testid="deliveries">
          <caption className="sr-only">Webhook deliveries, newest first</caption>
          <Head cols={['When', 'Event', 'Status', 'Attempts', 'Last answer', 'Body']} />
          <tbody>
            {log.data.deliveries.map((d) => (
              <tr key={d.id}>
                <td>
                  <When t={d.createdAt} />
                </td>
                <td>{d.event}</td>
                <td className={`delivery-${d.status}`}>
                  {d.status}
                  {d.nextAttemptAt ? (
                    <>
                      {' '}
                      · next try <When t={d.nextAttemptAt} />
                    </>
                  ) : null}
                </td>
                <td>{d.attempts}</td>
                <td>{d.lastError ?? (d.lastStatus !== null ? `HTTP ${d.lastStatus}` : '—')}</td>
                <td>
                  <details>
                    <summary>Show</summary>
                    <pre>
                      <code>{pretty(d.payload)}</code>
                    </pre>
                  </details>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Page>
  )
}

function pretty(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2)
  } catch {
    return text
  }
}
