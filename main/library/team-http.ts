import { CmdaiError, isErrorCode } from '../../contract/errors'
import {
  APPROVAL_PATHS,
  approvalSchema,
  type Approval,
  type ApprovalRequest,
} from '../../contract/approvals'
import { HTTP_PATHS, type ClientEvent, type EventsResponse } from '../../contract/sync'

/**
 * The team server's HTTP API as the app and the CLI use it: client events and approvals, each
 * request with the member's bearer token and a timeout, every answer validated.
 */
export interface TeamEndpoint {
  server: string
  token: string
}

const TIMEOUT_MS = 15_000

export async function call<T>(
  endpoint: TeamEndpoint,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<T> {
  const url = new URL(path, endpoint.server.endsWith('/') ? endpoint.server : endpoint.server + '/')
  const timeout = AbortSignal.timeout(options.timeoutMs ?? TIMEOUT_MS)
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout
  let res: Response
  try {
    res = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${endpoint.token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal,
      redirect: 'error',
    })
  } catch (err) {
    if (options.signal?.aborted) throw new CmdaiError('cancelled', 'Cancelled')
    const why = (err as Error).name === 'TimeoutError' ? 'timed out' : (err as Error).message
    throw new CmdaiError(
      'unavailable',
      `The team server ${endpoint.server} cannot be reached (${why})`,
    )
  }
  const text = await res.text()
  let json: unknown = null
  try {
    json = text ? JSON.parse(text) : null
  } catch {
    // Reported below with the status.
  }
  if (!res.ok) {
    const e = json as { code?: unknown; message?: unknown } | null
    const code = isErrorCode(e?.code)
      ? e.code
      : res.status === 401 || res.status === 403
        ? 'forbidden'
        : 'unavailable'
    const message = typeof e?.message === 'string' ? e.message : `HTTP ${res.status}`
    throw new CmdaiError(code, `Team server: ${message.slice(0, 300)}`)
  }
  return json as T
}

export async function postEvents(
  endpoint: TeamEndpoint,
  events: ClientEvent[],
): Promise<EventsResponse> {
  const r = await call<EventsResponse>(endpoint, 'POST', HTTP_PATHS.events, { events })
  if (typeof r?.accepted !== 'number')
    throw new CmdaiError('internal', 'Team server: unexpected answer')
  return r
}

function approval(value: unknown): Approval {
  const parsed = approvalSchema.safeParse(value)
  if (!parsed.success) throw new CmdaiError('internal', 'Team server: malformed approval')
  return parsed.data
}

export async function requestApproval(
  endpoint: TeamEndpoint,
  body: ApprovalRequest,
): Promise<Approval> {
  return approval(await call(endpoint, 'POST', APPROVAL_PATHS.list, body))
}

export async function listApprovals(endpoint: TeamEndpoint): Promise<Approval[]> {
  const r = await call<{ approvals?: unknown }>(endpoint, 'GET', APPROVAL_PATHS.list)
  if (!Array.isArray(r?.approvals))
    throw new CmdaiError('internal', 'Team server: unexpected answer')
  return r.approvals.map(approval)
}

export async function getApproval(
  endpoint: TeamEndpoint,
  id: string,
  waitMs = 0,
  signal?: AbortSignal,
): Promise<Approval> {
  const path = `${APPROVAL_PATHS.list}/${encodeURIComponent(id)}${waitMs > 0 ? `?wait=${Math.round(waitMs)}` : ''}`
  return approval(
    await call(endpoint, 'GET', path, undefined, { timeoutMs: waitMs + TIMEOUT_MS, signal }),
  )
}

export async function decideApproval(
  endpoint: TeamEndpoint,
  id: string,
  decision: 'approve' | 'deny',
  comment: string,
): Promise<Approval> {
  return approval(
    await call(endpoint, 'POST', `${APPROVAL_PATHS.list}/${encodeURIComponent(id)}/decision`, {
      decision,
      comment,
    }),
  )
}

/** Waits for a decision, long-polling until `deadline`; resolves with the last state seen. */
export async function waitForDecision(
  endpoint: TeamEndpoint,
  id: string,
  deadline: number,
  signal?: AbortSignal,
): Promise<Approval> {
  let last = await getApproval(endpoint, id, 0, signal)
  while (last.status === 'pending' && Date.now() < deadline) {
    try {
      last = await getApproval(endpoint, id, Math.min(30_000, deadline - Date.now()), signal)
    } catch (err) {
      if (err instanceof CmdaiError && err.code === 'unavailable' && Date.now() < deadline) {
        // The server restarts or the network blips: try again shortly.
        await new Promise((r) => setTimeout(r, 1_000))
        continue
      }
      throw err
    }
  }
  return last
}

/**
 * Follows the server's approval stream (server-sent events) until `signal` aborts, reconnecting
 * with backoff; `onApproval` gets every change the member may see.
 */
export async function watchApprovals(
  endpoint: TeamEndpoint,
  onApproval: (a: Approval) => void,
  signal: AbortSignal,
  onState?: (connected: boolean) => void,
): Promise<void> {
  let backoff = 500
  while (!signal.aborted) {
    try {
      const res = await fetch(new URL(APPROVAL_PATHS.stream, endpoint.server + '/'), {
        headers: { authorization: `Bearer ${endpoint.token}`, accept: 'text/event-stream' },
        signal,
      })
      if (res.status === 401 || res.status === 403) return onState?.(false)
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`)
      onState?.(true)
      backoff = 500
      const decoder = new TextDecoder()
      let buffer = ''
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true })
        if (buffer.length > 1_000_000) throw new Error('event too large')
        let end: number
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trimStart())
            .join('\n')
          if (!data) continue
          try {
            const parsed = approvalSchema.safeParse(JSON.parse(data))
            if (parsed.success) onApproval(parsed.data)
          } catch {
            // A malformed event is skipped; the list request resynchronises.
          }
        }
      }
    } catch {
      if (signal.aborted) return
    }
    onState?.(false)
    await new Promise((r) => setTimeout(r, backoff))
    backoff = Math.min(backoff * 2, 15_000)
  }
}
