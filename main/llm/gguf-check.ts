import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { checkGgufHeader, type ReadOptions } from './gguf-header'

export interface GgufSummary {
  architecture: string
  name: string | null
  sizeBytes: number
  tensorCount: number
}

/**
 * Checks that `path` is a complete GGUF file before anything loads it: the header, metadata and
 * tensor table parse within their bounds (gguf-header.ts, the one GGUF reader), and every tensor's
 * data lies inside the file (catches truncated downloads). Throws a CmdaiError, never crashes.
 */
export async function checkGgufFile(path: string, options?: ReadOptions): Promise<GgufSummary> {
  // The reader is synchronous and bounded (sizes checked before reading, plus a deadline).
  await Promise.resolve()
  const header = checkGgufHeader(path, options)
  return {
    architecture: header.architecture ?? 'unknown',
    name: header.name,
    sizeBytes: header.fileBytes,
    tensorCount: header.tensorCount,
  }
}

export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path, { signal })) hash.update(chunk as Buffer)
  return hash.digest('hex')
}
