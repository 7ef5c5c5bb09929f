import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { readGgufFileInfo } from 'node-llama-cpp'
import { CmdaiError } from '../../contract'

/** [elements per block, bytes per block] of common ggml tensor types, by `ggml_type` id. */
const BLOCK: Record<number, [number, number]> = {
  0: [1, 4], // F32
  1: [1, 2], // F16
  2: [32, 18], // Q4_0
  3: [32, 20], // Q4_1
  6: [32, 22], // Q5_0
  7: [32, 24], // Q5_1
  8: [32, 34], // Q8_0
  9: [32, 36], // Q8_1
  10: [256, 84], // Q2_K
  11: [256, 110], // Q3_K
  12: [256, 144], // Q4_K
  13: [256, 176], // Q5_K
  14: [256, 210], // Q6_K
  15: [256, 292], // Q8_K
  30: [1, 2], // BF16
}

export interface GgufSummary {
  architecture: string
  name: string | null
  sizeBytes: number
  tensorCount: number
}

/**
 * Checks that `path` is a complete GGUF file: the header and metadata parse, and every tensor's
 * data lies inside the file (catches truncated downloads). Throws a CmdaiError, never crashes.
 */
export async function checkGgufFile(path: string): Promise<GgufSummary> {
  let size: number
  try {
    const info = await stat(path)
    if (!info.isFile()) throw new Error('not a file')
    size = info.size
  } catch {
    throw new CmdaiError('not_found', `Model file not found: ${path}`)
  }
  let info: Awaited<ReturnType<typeof readGgufFileInfo>>
  try {
    info = await readGgufFileInfo(path, { readTensorInfo: true, logWarnings: false })
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err)
    throw new CmdaiError('invalid_input', `${path} is not a valid GGUF model file (${why})`)
  }
  let end = 0
  for (const tensor of info.tensorInfo ?? []) {
    const offset = Number(tensor.fileOffset)
    const elements = tensor.dimensions.reduce<number>((a, d) => a * Number(d), 1)
    const block = BLOCK[tensor.ggmlType as number]
    const bytes = block ? Math.ceil(elements / block[0]) * block[1] : 1
    end = Math.max(end, offset + bytes)
  }
  if (end > size) {
    throw new CmdaiError(
      'invalid_input',
      `${path} is truncated: ${size} bytes on disk, the model needs ${end} (delete it and download again)`,
    )
  }
  const general = info.metadata.general as { architecture?: string; name?: string } | undefined
  return {
    architecture: String(general?.architecture ?? 'unknown'),
    name: general?.name ?? null,
    sizeBytes: size,
    tensorCount: Number(info.tensorCount),
  }
}

export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path, { signal })) hash.update(chunk as Buffer)
  return hash.digest('hex')
}
