import { APPROVAL_STATUSES, type Approval, type ApprovalStatus } from '../../../contract/approvals'
import type { ApprovalsView } from '../../../contract/console'
import { ConsoleError, SECURITY_HEADERS } from '../http'
import { ANSWERED, type ConsoleServices, type Route } from '../services'

/** The approvals queue: pending and decided requests, decisions, and a live stream. */
export function approvalRoutes(s: ConsoleServices): Route[] {
  const service = () => {
    const a = s.approvals()
    if (!a) throw new ConsoleError(503, 'unavailable', 'approvals are not enabled on this server')
    return a
  }
  return [
    {
      method: 'GET',
      path: '/approvals',
      area: 'approvals',
      handler: async ({ principal, url }): Promise<ApprovalsView> => {
        const status = url.searchParams.get('status')
        if (status && !(APPROVAL_STATUSES as readonly string[]).includes(status))
          throw new ConsoleError(
            400,
            'invalid_input',
            `status: one of ${APPROVAL_STATUSES.join(', ')}`,
          )
        return {
          approvals: await service().list(
            principal,
            (status as ApprovalStatus | null) ?? undefined,
          ),
        }
      },
    },
    {
      method: 'POST',
      path: '/approvals/:id/decision',
      area: 'approvals',
      // The approvals service answers with the console's errors (status and envelope).
      handler: ({ principal, params, body }) => service().decide(principal, params.id!, body),
    },
    {
      method: 'GET',
      path: '/approvals/stream',
      area: 'approvals',
      handler: async ({ principal, req, res, stillValid }) => {
        const svc = service()
        const pending = await svc.list(principal, 'pending')
        res.writeHead(200, {
          ...SECURITY_HEADERS,
          'content-type': 'text/event-stream',
          connection: 'keep-alive',
        })
        const write = (a: Approval) => res.write(`event: approval\ndata: ${JSON.stringify(a)}\n\n`)
        res.write(': connected\n\n')
        for (const a of pending) write(a)
        const stop = svc.onChange((a) => {
          if (a.team === principal.team) write(a)
        })
        const end = () => {
          stop()
          clearInterval(beat)
        }
        // A stream lives only as long as its session: signed out or removed, it ends.
        const beat = setInterval(() => {
          void stillValid().then(
            (ok) => (ok ? res.write(': keep-alive\n\n') : (end(), res.end())),
            () => {},
          )
        }, 15_000)
        beat.unref()
        req.on('close', end)
        s.onClose(() => {
          end()
          res.end()
        })
        return ANSWERED
      },
    },
  ]
}
