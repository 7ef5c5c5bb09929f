import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync, truncateSync } from 'node:fs'
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
    ).rejects.toMatchObject({ code: 'invalid_input', message: expect.stringMatching(/truncated/) })
    expect(existsSync(join(modelsDir, 'bad.gguf'))).toBe(false)
  })
})
