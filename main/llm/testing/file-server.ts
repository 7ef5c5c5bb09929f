import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FileServer {
  url: string
  /** Each request's method and Range header, in order. */
  log: Array<{ method: string; range: string | null; cut: boolean }>
  close(): Promise<void>
}

/**
 * A loopback HTTP server for one file, with Range support like a CDN. `dropAfterBytes` makes the
 * first ranged GET cut the connection after that many bytes (a dropped connection mid-download);
 * `throttleBytesPerChunk` slows responses down so that cancellation can be tested.
 */
export async function serveFile(
  path: string,
  options: { dropAfterBytes?: number; chunkBytes?: number; chunkDelayMs?: number } = {},
): Promise<FileServer> {
  const data = readFileSync(path)
  const log: FileServer['log'] = []
  let dropped = false
  const server: Server = createServer((req, res) => {
    const range = req.headers.range ?? null
    const entry = { method: req.method ?? '', range, cut: false }
    log.push(entry)
    let start = 0
    let end = data.length - 1
    const match = range ? /bytes=(\d+)-(\d*)/.exec(range) : null
    if (match) {
      start = Number(match[1])
      if (match[2]) end = Math.min(Number(match[2]), end)
    }
    const headers = {
      'accept-ranges': 'bytes',
      'content-type': 'application/octet-stream',
      'content-length': String(end - start + 1),
      ...(match ? { 'content-range': `bytes ${start}-${end}/${data.length}` } : {}),
    }
    res.writeHead(match ? 206 : 200, headers)
    if (req.method === 'HEAD') return res.end()
    const body = data.subarray(start, end + 1)
    const chunk = options.chunkBytes ?? 256 * 1024
    let sent = 0
    // Cut the first ranged GET that is long enough, once: a dropped connection mid-transfer.
    let dropAt: number | null = null
    if (
      !dropped &&
      range &&
      options.dropAfterBytes !== undefined &&
      body.length > options.dropAfterBytes
    ) {
      dropped = true
      dropAt = options.dropAfterBytes
    }
    const pump = () => {
      if (sent >= body.length) return res.end()
      if (dropAt !== null && sent >= dropAt) {
        entry.cut = true
        res.socket?.destroy()
        return
      }
      const next = body.subarray(sent, sent + chunk)
      sent += next.length
      const ok = res.write(next)
      const go = () =>
        options.chunkDelayMs ? setTimeout(pump, options.chunkDelayMs) : setImmediate(pump)
      if (ok) go()
      else res.once('drain', go)
    }
    pump()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
