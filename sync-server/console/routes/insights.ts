import {
  analyticsQuerySchema,
  consoleInputs,
  type Analytics,
  type DeliveryView,
  type WebhookCreated,
  type WebhookView,
} from '../../../contract/console'
import { computeAnalytics } from '../analytics'
import { maskUrl } from '../webhooks/webhooks'
import { ConsoleError, parseInput, queryObject } from '../http'
import { notFound, type ConsoleServices, type Route } from '../services'

/** Usage analytics, and the team's webhooks with their delivery log. */
export function insightRoutes(s: ConsoleServices): Route[] {
  const change = (
    session: { team: string; user: string; role: string },
    data: Record<string, unknown>,
  ) => ({
    team: session.team,
    kind: 'webhook.change' as const,
    actor: session.user,
    role: session.role as 'admin',
    data,
  })
  return [
    {
      method: 'GET',
      path: '/analytics',
      area: 'analytics',
      handler: async ({ session, url }): Promise<Analytics> => {
        const { days } = parseInput(analyticsQuerySchema, queryObject(url))
        return computeAnalytics(s.deps.storage.sql, session.team, days, s.now())
      },
    },
    {
      method: 'GET',
      path: '/webhooks',
      area: 'webhooks',
      handler: async ({ session }): Promise<{ webhooks: WebhookView[] }> => ({
        webhooks: await s.webhooks.list(session.team),
      }),
    },
    {
      method: 'POST',
      path: '/webhooks',
      area: 'webhooks',
      handler: async ({ session, body }): Promise<WebhookCreated> => {
        const input = parseInput(consoleInputs.webhookCreate, body)
        httpUrl(input.url)
        let created: { id: string; secret: string } | null = null
        await s.deps.commit({
          run: async (tx) => {
            created = await s.webhooks.create(tx, session.team, session.user, input)
            return [
              change(session, {
                action: 'create',
                webhook: created.id,
                url: maskUrl(input.url),
                format: input.format,
                events: input.events,
                enabled: input.enabled,
              }),
            ]
          },
        })
        const made = created as unknown as { id: string; secret: string }
        return { webhook: (await s.webhooks.get(session.team, made.id))!, secret: made.secret }
      },
    },
    {
      method: 'POST',
      path: '/webhooks/:id',
      area: 'webhooks',
      handler: async ({ session, body, params }) => {
        const input = parseInput(consoleInputs.webhookUpdate, body)
        if (input.url) httpUrl(input.url)
        let result: { secret: string | null } | false = false
        await s.deps.commit({
          run: async (tx) => {
            result = await s.webhooks.update(tx, session.team, params.id!, input)
            if (!result) return []
            const { rotateSecret, url, ...rest } = input
            return [
              change(session, {
                action: 'update',
                webhook: params.id,
                ...rest,
                ...(url ? { url: maskUrl(url) } : {}),
                ...(rotateSecret ? { secretRotated: true } : {}),
              }),
            ]
          },
        })
        if (!result) throw notFound('webhook')
        const done = result as { secret: string | null }
        return {
          webhook: await s.webhooks.get(session.team, params.id!),
          ...(done.secret ? { secret: done.secret } : {}),
        }
      },
    },
    {
      method: 'POST',
      path: '/webhooks/:id/delete',
      area: 'webhooks',
      handler: async ({ session, params }) => {
        let removed = false
        await s.deps.commit({
          run: async (tx) => {
            removed = await s.webhooks.remove(tx, session.team, params.id!)
            return removed ? [change(session, { action: 'delete', webhook: params.id })] : []
          },
        })
        if (!removed) throw notFound('webhook')
        return { removed: true }
      },
    },
    {
      method: 'POST',
      path: '/webhooks/:id/test',
      area: 'webhooks',
      handler: async ({ session, params }) => {
        if (!(await s.webhooks.get(session.team, params.id!))) throw notFound('webhook')
        const ids = await s.webhooks.notify(
          {
            event: 'policy.changed',
            team: session.team,
            title: `Test message from the cmdai console, sent by ${session.user}`,
            fields: [['Sent by', session.user]],
            data: { test: true },
          },
          params.id,
        )
        return { deliveries: ids }
      },
    },
    {
      method: 'GET',
      path: '/webhooks/deliveries',
      area: 'webhooks',
      handler: async ({ session, url }): Promise<{ deliveries: DeliveryView[] }> => {
        const hook = url.searchParams.get('webhook') ?? undefined
        if (hook !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(hook))
          throw new ConsoleError(400, 'invalid_input', 'webhook: an id')
        return { deliveries: await s.webhooks.deliveries(session.team, hook) }
      },
    },
  ]
}

function httpUrl(url: string): void {
  const u = new URL(url)
  if (u.protocol !== 'https:' && u.protocol !== 'http:')
    throw new ConsoleError(400, 'invalid_input', 'url: an http or https URL')
  if (u.username || u.password)
    throw new ConsoleError(400, 'invalid_input', 'url: no credentials in the URL')
}
