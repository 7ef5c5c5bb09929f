import type { IncomingMessage } from 'node:http'
import { TEAM_NAME_RE } from '../../contract/sync'
import { ConsoleError, readBody } from '../console/http'

/**
 * Request helpers of the sign-in and elevation endpoints (the console's `http.ts` has the JSON and
 * page ones): OAuth's form bodies and bearer tokens.
 */

/**
 * A token endpoint body: `application/x-www-form-urlencoded` (OAuth's own) or a flat JSON object
 * of strings; at most `max` bytes; a parameter given twice is refused (RFC 6749 §3.1).
 */
export async function readForm(req: IncomingMessage, max: number): Promise<Map<string, string>> {
  const type = req.headers['content-type'] ?? ''
  const json = /^application\/json\s*(;|$)/i.test(type)
  if (!json && !/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type))
    throw new ConsoleError(415, 'invalid_input', 'send application/x-www-form-urlencoded')
  const text = await readBody(req, max)
  const out = new Map<string, string>()
  const put = (k: string, v: unknown) => {
    if (typeof v !== 'string') throw new ConsoleError(400, 'invalid_input', `"${k}" is not text`)
    if (out.has(k)) throw new ConsoleError(400, 'invalid_input', `"${k}" given twice`)
    out.set(k, v)
  }
  if (json) {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      throw new ConsoleError(400, 'invalid_input', 'body is not JSON')
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new ConsoleError(400, 'invalid_input', 'body is not a JSON object')
    for (const [k, v] of Object.entries(parsed)) put(k, v)
  } else for (const [k, v] of new URLSearchParams(text)) put(k, v)
  return out
}

/** The bearer token of a request (`Authorization: Bearer …`), or null. */
export function bearerToken(req: IncomingMessage): string | null {
  const m = /^Bearer\s+(\S{1,8192})$/i.exec(req.headers.authorization ?? '')
  return m?.[1] ?? null
}

/** The team claim of a bearer token, read only to route it (the server verifies it after). */
export function peekTeam(token: string | null): string | null {
  const part = token?.split('.')[1]
  if (!part || part.length > 4_096) return null
  try {
    const claims = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown
    const team = (claims as { team?: unknown } | null)?.team
    return typeof team === 'string' && TEAM_NAME_RE.test(team) ? team : null
  } catch {
    return null
  }
}
