import { existsSync } from 'node:fs'
import { rm, statfs } from 'node:fs/promises'
import { createModelDownloader } from 'node-llama-cpp'
import { CmdaiError, toErrorEnvelope, type DownloadProgress } from '../../contract'
import { join } from 'node:path'
import { CHAT_CATALOG, findCatalogModel } from './catalog'
import { isModelUri, probeDownload, probeUrlOf } from './download-probe'
import { checkGgufFile, sha256File } from './gguf-check'

export interface PullOptions {
  /** A catalog id, `hf:` URI or http(s) URL. */
  uri: string
  modelsDir: string
  downloadId: string
  signal?: AbortSignal
  onProgress?: (progress: DownloadProgress) => void
  /** When known, the file must hash to this (hex). */
  sha256?: string
  /** Free space to keep on the disk on top of the file itself. */
  reserveBytes?: number
  /** Minimum interval between progress events (ms). */
  progressIntervalMs?: number
  /** How long the host may take to answer the first request (ms). */
  connectTimeoutMs?: number
  /** Give up when no data has arrived for this long (ms): the host keeps dropping connections. */
  stallTimeoutMs?: number
  env?: NodeJS.ProcessEnv
}

/**
 * Downloads a model with node-llama-cpp's downloader (ipull underneath: HTTP Range requests, so
 * a dropped connection is retried from where it stopped and a cancelled download resumes on the
 * next pull, from its `.ipull` partial file). Asks the host once first (download-probe.ts), so an
 * unreachable host or a missing file fails in seconds with the reason; gives up when no data
 * arrives for a while; checks the disk space first and the file after.
 */
export async function pullModel(options: PullOptions): Promise<string> {
  const { downloadId, onProgress } = options
  const catalog = findCatalogModel(options.uri)
  if (!catalog && !isModelUri(options.uri)) {
    throw new CmdaiError(
      'invalid_input',
      `“${options.uri}” is not a catalog model, an hf: URI (hf:user/repo/file.gguf) or an http(s) URL. ` +
        `Catalog models: ${CHAT_CATALOG.map((m) => m.id).join(', ')}`,
    )
  }
  const uri = catalog?.uri ?? options.uri
  const base: DownloadProgress = {
    downloadId,
    uri,
    state: 'checking',
    bytes: 0,
    totalBytes: catalog?.sizeBytes ?? 0,
    bytesPerSecond: 0,
    etaSeconds: null,
    error: null,
  }
  const emit = (patch: Partial<DownloadProgress>) => {
    Object.assign(base, patch)
    onProgress?.({ ...base })
  }
  emit({})

  let lastEmit = 0
  const interval = options.progressIntervalMs ?? 200
  // Stops the download when no data arrives for a while (ipull would retry for many minutes).
  const stall = new AbortController()
  const stallMs = options.stallTimeoutMs ?? 60_000
  let stallTimer: ReturnType<typeof setTimeout> | undefined
  const stalled = () => {
    clearTimeout(stallTimer)
    stallTimer = setTimeout(() => stall.abort(), stallMs)
  }
  try {
    options.signal?.throwIfAborted()
    const present = catalog && existsSync(join(options.modelsDir, catalog.fileName))
    if (!present)
      await probeDownload(probeUrlOf(uri, options.env), {
        signal: options.signal,
        timeoutMs: options.connectTimeoutMs,
        env: options.env,
      })
    const downloader = await createModelDownloader({
      modelUri: uri,
      dirPath: options.modelsDir,
      // Catalog models keep their catalog file name (the downloader would prefix "hf_<user>_").
      ...(catalog ? { fileName: catalog.fileName } : {}),
      skipExisting: true,
      deleteTempFileOnCancel: false,
      parallelDownloads: 1,
      onProgress: (s) => {
        stalled()
        const now = Date.now()
        if (now - lastEmit < interval && s.downloadedSize < s.totalSize) return
        lastEmit = now
        emit({
          state: 'downloading',
          bytes: s.downloadedSize,
          totalBytes: s.totalSize,
          bytesPerSecond: Math.round(s.averageSpeed || 0),
          etaSeconds: Number.isFinite(s.estimatedTimeLeft) ? s.estimatedTimeLeft / 1000 : null,
        })
      },
    })
    const target = downloader.entrypointFilePath
    const total = downloader.totalSize
    emit({ totalBytes: total, bytes: downloader.downloadedSize })
    if (!existsSync(target))
      await ensureDiskSpace(
        options.modelsDir,
        total - downloader.downloadedSize,
        options.reserveBytes,
      )

    emit({ state: 'downloading' })
    stalled()
    const signal = options.signal ? AbortSignal.any([options.signal, stall.signal]) : stall.signal
    const path = await downloader.download({ signal }).catch((err: unknown) => {
      if (stall.signal.aborted && !options.signal?.aborted) return null
      throw err
    })
    clearTimeout(stallTimer)
    // ipull resolves (rather than rejects) when it is closed by a cancel.
    options.signal?.throwIfAborted()
    if (stall.signal.aborted || path === null) {
      throw new CmdaiError(
        'unavailable',
        `No data from ${hostOf(uri)} for ${Math.round(stallMs / 1000)} s: the connection keeps failing. ` +
          'Retry continues from where it stopped.',
      )
    }
    emit({ state: 'verifying', bytes: total, totalBytes: total, etaSeconds: 0 })
    try {
      await checkGgufFile(path)
      if (options.sha256) {
        const actual = await sha256File(path, options.signal)
        if (actual !== options.sha256.toLowerCase()) {
          throw new CmdaiError('invalid_input', `Checksum mismatch for ${path}: got ${actual}`)
        }
      }
    } catch (err) {
      // A bad file must not stay where the model list would offer it.
      await rm(path, { force: true })
      const envelope = toErrorEnvelope(err)
      throw new CmdaiError(
        envelope.code === 'internal' ? 'invalid_input' : envelope.code,
        `${envelope.message}. The downloaded file was removed; Retry downloads it again.`,
      )
    }
    emit({ state: 'done' })
    return path
  } catch (raw) {
    clearTimeout(stallTimer)
    const err = normalise(raw, options.signal)
    emit({ state: err.code === 'cancelled' ? 'cancelled' : 'error', error: err.toEnvelope() })
    throw err
  }
}

async function ensureDiskSpace(
  dir: string,
  needed: number,
  reserve = 256 * 2 ** 20,
): Promise<void> {
  const fsInfo = await statfs(dir)
  const free = fsInfo.bavail * fsInfo.bsize
  if (free < needed + reserve) {
    const gb = (n: number) => `${(n / 1e9).toFixed(2)} GB`
    throw new CmdaiError(
      'unavailable',
      `Not enough disk space: the model needs ${gb(needed)}, ${gb(free)} free in ${dir}`,
    )
  }
}

function hostOf(uri: string): string {
  try {
    return new URL(uri).host
  } catch {
    return 'the model host'
  }
}

function normalise(err: unknown, signal: AbortSignal | undefined): CmdaiError {
  if (err instanceof CmdaiError) return err
  if (signal?.aborted)
    return new CmdaiError('cancelled', 'The download was cancelled; pull again to resume')
  const envelope = toErrorEnvelope(err)
  return new CmdaiError(
    envelope.code === 'internal' ? 'unavailable' : envelope.code,
    `Download failed: ${envelope.message}`,
  )
}
