import type { IncomingMessage, ServerResponse } from 'node:http'
import type { z } from 'zod'
import type { ErrorCode } from '../../contract/errors'

/** An answer with a status and the contract's `{code, message}` envelope. */
export class ConsoleError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message)
  }
}

/** Headers every console answer carries. */
export const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
} as const

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.end()
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8' })
  res.end(JSON.stringify(body))
}

export function sendError(res: ServerResponse, err: unknown): void {
  if (err instanceof ConsoleError)
    return sendJson(res, err.status, { code: err.code, message: err.message })
  sendJson(res, 503, { code: 'unavailable', message: 'the server could not complete the request' })
}

/** Deepest JSON nesting a console request may use (policies are 4 levels deep). */
export const MAX_JSON_DEPTH = 16

/**
 * Nesting depth of a JSON text, counted without parsing it (so a hostile body of a million `[`
 * costs one linear scan, not a recursion). Brackets inside strings do not count.
 */
export function jsonDepth(text: string, limit = Infinity): number {
  let depth = 0
  let max = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92)
        i++ // backslash: skip the escaped character
      else if (c === 34) inString = false
    } else if (c === 34) inString = true
    else if (c === 91 || c === 123) {
      depth++
      if (depth > max) {
        max = depth
        if (max > limit) return max
      }
    } else if (c === 93 || c === 125) depth--
  }
  return max
}

/** A request's body as text, refused (413) past `max` bytes, declared or sent. */
export async function readBody(req: IncomingMessage, max: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > max) throw new ConsoleError(413, 'invalid_input', `body over ${max} bytes`)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > max) throw new ConsoleError(413, 'invalid_input', `body over ${max} bytes`)
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** Reads a JSON body: `application/json` only, at most `max` bytes and `MAX_JSON_DEPTH` deep. */
export async function readJson(req: IncomingMessage, max: number): Promise<unknown> {
  if (!/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? ''))
    throw new ConsoleError(415, 'invalid_input', 'send application/json')
  const text = await readBody(req, max)
  if (jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH)
    throw new ConsoleError(400, 'invalid_input', `JSON nested deeper than ${MAX_JSON_DEPTH}`)
  try {
    return JSON.parse(text)
  } catch {
    throw new ConsoleError(400, 'invalid_input', 'body is not JSON')
  }
}

/** Validates with a schema; a clear 400 naming the first problem otherwise. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value)
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]
  throw new ConsoleError(
    400,
    'invalid_input',
    `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`.slice(0, 300),
  )
}

/** The request's query as a plain object (each name once). */
export function queryObject(url: URL): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of url.searchParams) {
    if (k in out) throw new ConsoleError(400, 'invalid_input', `"${k}" given twice`)
    out[k] = v
  }
  return out
}

/** Cookies of a request (first value of each name). */
export function readCookies(req: IncomingMessage): Map<string, string> {
  const out = new Map<string, string>()
  const header = req.headers.cookie
  if (!header || header.length > 8_192) return out
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    const name = part.slice(0, eq).trim()
    if (!out.has(name)) out.set(name, part.slice(eq + 1).trim())
  }
  return out
}

/** A small HTML page (sign-in problems, links), escaped, under the console's CSP. */
export function sendPage(res: ServerResponse, status: number, title: string, text: string): void {
  const esc = (s: string) =>
    s.replace(
      /[&<>"']/g,
      (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
    )
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': "default-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  })
  res.end(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title></head>` +
      `<body><main><h1>${esc(title)}</h1><p>${esc(text)}</p></main></body></html>`,
  )
}

/** Whether the browser reached us over HTTPS (through a proxy that says so): cookies go Secure. */
export function isHttps(req: { headers: Record<string, string | string[] | undefined> }): boolean {
  return req.headers['x-forwarded-proto'] === 'https'
}
