import { CSRF_HEADER } from '../../../contract/console'

/** An error answer of the console API (`{code, message}` with the HTTP status). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

let csrf = ''
const signedOutListeners = new Set<() => void>()

/** The session's CSRF token, sent with every change. */
export function setCsrf(token: string): void {
  csrf = token
}

/** Called when the server says the session is gone (signed out, expired, removed). */
export function onSignedOut(fn: () => void): () => void {
  signedOutListeners.add(fn)
  return () => signedOutListeners.delete(fn)
}

export const API = '/admin/api'

export async function api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${API}${path}`, {
    method,
    // 'include' (same origin only, by the CSP) matches the page's preload of /session.
    credentials: 'include',
    headers: method === 'POST' ? { 'content-type': 'application/json', [CSRF_HEADER]: csrf } : {},
    ...(method === 'POST' ? { body: JSON.stringify(body ?? {}) } : {}),
  })
  const text = await res.text()
  let json: unknown = null
  try {
    json = text ? JSON.parse(text) : null
  } catch {
    json = null
  }
  if (!res.ok) {
    const e = json as { code?: string; message?: string } | null
    if (res.status === 401 && !path.startsWith('/invites/redeem'))
      for (const fn of signedOutListeners) fn()
    throw new ApiError(res.status, e?.code ?? 'unavailable', e?.message ?? `HTTP ${res.status}`)
  }
  return json as T
}

export const get = <T>(path: string) => api<T>('GET', path)
export const post = <T>(path: string, body: unknown = {}) => api<T>('POST', path, body)

/** Query string from defined values. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v))
  const s = q.toString()
  return s ? `?${s}` : ''
}
