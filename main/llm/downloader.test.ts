import { execFileSync } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
} from 'node:fs'
import { createServer as createHttpServer, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { createServer as createTcpServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { DownloadProgress } from '../../contract'
import { ensureFixtureModel } from '../../scripts/fixture-model'
import { pullModel } from './downloader'
import { serveFile, type FileServer } from './testing/file-server'

let fixture: string
let server: FileServer | null = null
let dir: string

beforeAll(() => {
  fixture = ensureFixtureModel('tiny')
})

afterEach(async () => {
  await server?.close()
  server = null
  if (dir) rmSync(dir, { recursive: true, force: true })
})

function tempModelsDir(): string {
  dir = mkdtempSync(join(tmpdir(), 'cmdai-dl-'))
  return join(dir, 'models')
}

describe('pullModel against a loopback server', () => {
  it('downloads, reports progress and verifies the file', async () => {
    server = await serveFile(fixture, { chunkBytes: 512 * 1024, chunkDelayMs: 5 })
    const events: DownloadProgress[] = []
    const path = await pullModel({
      uri: `${server.url}/tiny.gguf`,
      modelsDir: tempModelsDir(),
      downloadId: 'd1',
      onProgress: (p) => events.push(p),
      progressIntervalMs: 0,
    })
    expect(statSync(path).size).toBe(statSync(fixture).size)
    const downloading = events.filter((e) => e.state === 'downloading' && e.bytes > 0)
    expect(downloading.length).toBeGreaterThan(2)
    expect(downloading.at(-1)?.totalBytes).toBe(statSync(fixture).size)
    expect(events.at(-1)?.state).toBe('done')
    expect(events.some((e) => e.bytesPerSecond > 0)).toBe(true)
  })

  it('resumes with a Range request after the connection drops mid-file', async () => {
    const size = statSync(fixture).size
    server = await serveFile(fixture, { dropAfterBytes: 3_000_000 })
    const path = await pullModel({
      uri: `${server.url}/tiny.gguf`,
      modelsDir: tempModelsDir(),
      downloadId: 'd2',
    })
    expect(statSync(path).size).toBe(size)
    const gets = server.log.filter((r) => r.method === 'GET')
    const cut = gets.filter((r) => r.cut)
    expect(cut).toHaveLength(1)
    // The dropped range is requested again; the ranges that completed are not.
    const retried = gets.filter((r) => r.range === cut[0]!.range)
    expect(retried).toHaveLength(2)
    const ranges = gets.filter((r) => r.range).map((r) => r.range)
    expect(new Set(ranges).size).toBe(ranges.length - 1)
  })

  it('cancels mid-download with a cancelled state, and a later pull completes', async () => {
    server = await serveFile(fixture, { chunkBytes: 256 * 1024, chunkDelayMs: 10 })
    const modelsDir = tempModelsDir()
    const controller = new AbortController()
    const events: DownloadProgress[] = []
    const first = pullModel({
      uri: `${server.url}/tiny.gguf`,
      modelsDir,
      downloadId: 'd3',
      signal: controller.signal,
      progressIntervalMs: 0,
      onProgress: (p) => {
        events.push(p)
        if (p.bytes > 2_000_000 && !controller.signal.aborted) controller.abort()
      },
    })
    await expect(first).rejects.toMatchObject({ code: 'cancelled' })
    expect(events.at(-1)?.state).toBe('cancelled')
    expect(existsSync(join(modelsDir, 'tiny.gguf'))).toBe(false)

    const path = await pullModel({ uri: `${server.url}/tiny.gguf`, modelsDir, downloadId: 'd3b' })
    expect(statSync(path).size).toBe(statSync(fixture).size)
  })

  it('checks the disk space before downloading', async () => {
    server = await serveFile(fixture)
    const modelsDir = tempModelsDir()
    await expect(
      pullModel({
        uri: `${server.url}/tiny.gguf`,
        modelsDir,
        downloadId: 'd5',
        reserveBytes: 2 ** 60,
      }),
    ).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/disk space/) })
    expect(server.log.filter((r) => r.range)).toHaveLength(0)
  })

  it('rejects a corrupt (truncated) model and does not keep it', async () => {
    const modelsDir = tempModelsDir()
    const bad = join(dir, 'bad.gguf')
    copyFileSync(fixture, bad)
    truncateSync(bad, Math.floor(statSync(fixture).size / 2))
    server = await serveFile(bad)
    await expect(
      pullModel({ uri: `${server.url}/bad.gguf`, modelsDir, downloadId: 'd4' }),
    ).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringMatching(/truncated.*The downloaded file was removed; Retry/),
    })
    expect(existsSync(join(modelsDir, 'bad.gguf'))).toBe(false)
  })
})

/** Starts a loopback server and returns its base URL and a closer. */
async function listen(server: Server | ReturnType<typeof createTcpServer>, scheme = 'http') {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const close = () =>
    new Promise<void>((resolve) => {
      if ('closeAllConnections' in server) server.closeAllConnections()
      server.close(() => resolve())
    })
  return { url: `${scheme}://127.0.0.1:${port}`, port, close }
}

/** Pulls `uri`, expecting a failure: its error, the last progress event, and how long it took. */
async function failedPull(uri: string, extra: Partial<Parameters<typeof pullModel>[0]> = {}) {
  const events: DownloadProgress[] = []
  const started = performance.now()
  const error = await pullModel({
    uri,
    modelsDir: tempModelsDir(),
    downloadId: 'f',
    onProgress: (p) => events.push(p),
    ...extra,
  }).then(
    () => null,
    (err: unknown) => err as { code: string; message: string },
  )
  return { error, last: events.at(-1), ms: performance.now() - started }
}

describe('pullModel fails fast, with the reason', () => {
  it('a port that refuses connections', async () => {
    const probe = await listen(createTcpServer())
    await probe.close()
    const { error, last, ms } = await failedPull(`${probe.url}/model.gguf`)
    expect(error).toMatchObject({
      code: 'unavailable',
      message: `Could not connect to 127.0.0.1:${probe.port}: the connection was refused`,
    })
    expect(ms).toBeLessThan(5000)
    // The progress event keeps the URL and carries the reason, for the row in the model manager.
    expect(last).toMatchObject({ state: 'error', uri: `${probe.url}/model.gguf` })
    expect(last?.error?.message).toMatch(/refused/)
  })

  it('a host that does not resolve', async () => {
    const { error, ms } = await failedPull('http://cmdai-test-host.invalid/model.gguf')
    expect(error?.message).toMatch(/Could not find the host of cmdai-test-host\.invalid/)
    expect(ms).toBeLessThan(15_000)
  })

  it('a server that resets every connection', async () => {
    const resetter = createTcpServer((socket) => socket.resetAndDestroy())
    const { url, close } = await listen(resetter)
    try {
      const { error, ms } = await failedPull(`${url}/model.gguf`)
      expect(error?.message).toMatch(/closed the connection before answering/)
      expect(ms).toBeLessThan(5000)
    } finally {
      await close()
    }
  })

  it('HTTP errors: missing file, gated model, server error', async () => {
    const statuses: Record<string, number> = {
      '/missing.gguf': 404,
      '/gated.gguf': 401,
      '/down.gguf': 503,
    }
    const { url, close } = await listen(
      createHttpServer((req, res) => res.writeHead(statuses[req.url ?? ''] ?? 500).end()),
    )
    try {
      expect((await failedPull(`${url}/missing.gguf`)).error).toMatchObject({
        code: 'not_found',
        message: `${url}/missing.gguf answered HTTP 404: there is no such file there`,
      })
      expect((await failedPull(`${url}/gated.gguf`)).error?.message).toMatch(/needs permission/)
      expect((await failedPull(`${url}/down.gguf`)).error?.message).toMatch(
        /HTTP 503: the server has a problem/,
      )
    } finally {
      await close()
    }
  })

  it('a TLS certificate that is not trusted', async () => {
    dir = mkdtempSync(join(tmpdir(), 'cmdai-tls-'))
    const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')]
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    )
    const tls = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_, res) =>
      res.end('x'),
    )
    const { url, close } = await listen(tls, 'https')
    try {
      const { error, ms } = await failedPull(`${url}/model.gguf`)
      expect(error?.message).toMatch(
        /secure connection to 127\.0\.0\.1:\d+ failed: its certificate is not trusted/,
      )
      expect(ms).toBeLessThan(5000)
    } finally {
      await close()
    }
  })

  it('a host that stops sending data mid-download', async () => {
    const size = statSync(fixture).size
    const hang = createHttpServer((req, res) => {
      const match = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? '')
      const start = match ? Number(match[1]) : 0
      const end = match?.[2] ? Math.min(Number(match[2]), size - 1) : size - 1
      res.writeHead(match ? 206 : 200, {
        'accept-ranges': 'bytes',
        'content-length': String(end - start + 1),
        ...(match ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
      })
      if (req.method === 'HEAD') return res.end()
      res.write(Buffer.alloc(1000))
      // ...and then nothing, forever.
    })
    const { url, close } = await listen(hang)
    try {
      const { error, ms } = await failedPull(`${url}/model.gguf`, { stallTimeoutMs: 1500 })
      expect(error).toMatchObject({ code: 'unavailable' })
      expect(error?.message).toMatch(/No data from 127\.0\.0\.1:\d+ for 2 s.*Retry continues/)
      expect(ms).toBeLessThan(10_000)
    } finally {
      await close()
    }
  })

  it('something that is neither a catalog id nor a URI', async () => {
    const { error } = await failedPull('notacatalogid')
    expect(error).toMatchObject({ code: 'invalid_input' })
    expect(error?.message).toMatch(/“notacatalogid” is not a catalog model, an hf: URI/)
    expect(error?.message).toMatch(/qwen2\.5-coder-0\.5b/)
    expect(error?.message).not.toMatch(/Invalid URL/)
  })
})
