import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, join, normalize, sep } from 'node:path'
import { SECURITY_HEADERS, sendPage } from './http'

/** The console page's policy: its own scripts and styles only, talking only to this server. */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
}

/**
 * Serves the built console (`vite build` of `sync-server/console-ui`) below `/admin/`: hashed
 * assets cached for good, the page itself never cached, and nothing outside the build folder.
 */
export async function serveStatic(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  dir: string | null,
): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...SECURITY_HEADERS, allow: 'GET, HEAD' }).end()
    return true
  }
  if (!dir) {
    sendPage(
      res,
      503,
      'The console is not built',
      'Run `npm run build` (or `npm run build:console`) in the cmdai checkout, then reload.',
    )
    return true
  }
  let rel: string
  try {
    rel = decodeURIComponent(path.slice('/admin/'.length))
  } catch {
    rel = '\0'
  }
  const asset = rel.startsWith('assets/') || rel === 'favicon.svg'
  const file = asset ? normalize(join(dir, rel)) : join(dir, 'index.html')
  if (rel.includes('\0') || !file.startsWith(normalize(dir) + sep)) {
    sendPage(res, 404, 'Not found', 'No such page.')
    return true
  }
  const info = await stat(file).catch(() => null)
  if (!info?.isFile()) {
    if (asset) sendPage(res, 404, 'Not found', 'No such file.')
    else sendPage(res, 503, 'The console is not built', 'Run `npm run build`, then reload.')
    return true
  }
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': info.size,
    ...(asset
      ? { 'cache-control': 'public, max-age=31536000, immutable' }
      : { 'content-security-policy': CONSOLE_CSP }),
  })
  if (req.method === 'HEAD') return (res.end(), true)
  await new Promise<void>((resolve) => {
    const stream = createReadStream(file)
    stream.on('error', () => (res.destroy(), resolve()))
    stream.on('end', () => resolve())
    stream.pipe(res)
  })
  return true
}
