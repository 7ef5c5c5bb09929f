import { createReadStream, statSync } from 'node:fs'
import type { ServerResponse } from 'node:http'
import { extname, join, normalize, resolve, sep } from 'node:path'

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
}

/** Resolves a URL path inside `root`, refusing anything that escapes it. */
export function resolveStaticPath(root: string, urlPath: string): string | null {
  let decoded: string
  try {
    decoded = decodeURIComponent(urlPath)
  } catch {
    return null
  }
  if (decoded.includes('\0')) return null
  const rootAbs = resolve(root)
  const target = resolve(rootAbs, '.' + normalize('/' + decoded))
  if (target !== rootAbs && !target.startsWith(rootAbs + sep)) return null
  return target
}

export function serveFile(res: ServerResponse, root: string, urlPath: string): boolean {
  const path = resolveStaticPath(root, urlPath === '/' ? '/index.html' : urlPath)
  if (!path) return false
  let size: number
  try {
    const stat = statSync(path)
    if (!stat.isFile()) return false
    size = stat.size
  } catch {
    return false
  }
  res.writeHead(200, {
    'Content-Type': CONTENT_TYPES[extname(path)] ?? 'application/octet-stream',
    'Content-Length': size,
    'Cache-Control': path.endsWith('index.html') ? 'no-store' : 'private, max-age=3600',
  })
  createReadStream(path).pipe(res)
  return true
}

export function rendererIndex(root: string): string {
  return join(root, 'index.html')
}
