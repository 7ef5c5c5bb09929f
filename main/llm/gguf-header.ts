import { closeSync, openSync, readSync } from 'node:fs'
import { CmdaiError } from '../../contract'

/** What an embedder needs to know about a model file before loading it. */
export interface GgufEmbeddingInfo {
  architecture: string
  /** `<arch>.embedding_length`: the size of the vectors the model produces. */
  embeddingLength: number
}

/** Fixed value sizes of GGUF metadata types (gguf.h `gguf_type`); 8 (string) and 9 (array) vary. */
const FIXED_SIZE: Record<number, number> = {
  0: 1,
  1: 1,
  2: 2,
  3: 2,
  4: 4,
  5: 4,
  6: 4,
  7: 1,
  10: 8,
  11: 8,
  12: 8,
}
const STRING = 8
const ARRAY = 9
/** Metadata larger than this is not a model file we want to read synchronously. */
const MAX_HEADER_BYTES = 256 * 2 ** 20

/**
 * Reads `general.architecture` and `<arch>.embedding_length` from a GGUF file's metadata,
 * synchronously and without loading the model: the history store must know an embedder's
 * dimensions when it is handed one (it prepares its vector index before the first embedding).
 * Reading stops as soon as both keys are seen (converters write them before the tokenizer's
 * large arrays, so this is usually a few kilobytes). Throws a CmdaiError on a missing or
 * malformed file.
 */
export function readGgufEmbeddingInfo(path: string): GgufEmbeddingInfo {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch {
    throw new CmdaiError('not_found', `Embedding model file not found: ${path}`)
  }
  try {
    return parse(new Reader(fd), path)
  } catch (err) {
    if (err instanceof CmdaiError) throw err
    const why = err instanceof Error ? err.message : String(err)
    throw new CmdaiError('invalid_input', `${path} is not a valid GGUF model file (${why})`)
  } finally {
    closeSync(fd)
  }
}

function parse(r: Reader, path: string): GgufEmbeddingInfo {
  if (r.bytes(4).toString('latin1') !== 'GGUF') throw new Error('no GGUF magic number')
  const version = r.u32()
  if (version < 2 || version > 3) throw new Error(`unsupported GGUF version ${version}`)
  r.u64() // tensor count
  const kvCount = r.u64()
  const numbers = new Map<string, number>()
  let architecture: string | null = null
  for (let i = 0; i < kvCount; i++) {
    const key = r.string()
    const type = r.u32()
    if (key === 'general.architecture' && type === STRING) architecture = r.string()
    else if (key.endsWith('.embedding_length')) numbers.set(key, r.integer(type))
    else r.skipValue(type)
    if (architecture && numbers.has(`${architecture}.embedding_length`)) break
  }
  if (!architecture) throw new Error('general.architecture is missing')
  const embeddingLength = numbers.get(`${architecture}.embedding_length`)
  if (!embeddingLength || embeddingLength < 1) {
    throw new CmdaiError(
      'invalid_input',
      `${path} has no ${architecture}.embedding_length: it cannot produce embeddings`,
    )
  }
  return { architecture, embeddingLength }
}

/** Buffered little-endian reads from a file descriptor. */
class Reader {
  private buf = Buffer.alloc(0)
  private pos = 0
  private fileOffset = 0

  constructor(private readonly fd: number) {}

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    if (this.fileOffset + n > MAX_HEADER_BYTES) throw new Error('metadata is implausibly large')
    const rest = this.buf.subarray(this.pos)
    const chunk = Buffer.alloc(Math.max(n - rest.length, 64 * 1024))
    const read = readSync(this.fd, chunk, 0, chunk.length, this.fileOffset)
    this.fileOffset += read
    this.buf = Buffer.concat([rest, chunk.subarray(0, read)])
    this.pos = 0
    if (this.buf.length < n) throw new Error('the file ends inside its metadata')
  }

  bytes(n: number): Buffer {
    this.ensure(n)
    const out = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return out
  }

  u32(): number {
    return this.bytes(4).readUInt32LE(0)
  }

  u64(): number {
    const v = this.bytes(8).readBigUInt64LE(0)
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('a count is implausibly large')
    return Number(v)
  }

  string(): string {
    const length = this.u64()
    if (length > MAX_HEADER_BYTES) throw new Error('a string is implausibly long')
    return this.bytes(length).toString('utf8')
  }

  integer(type: number): number {
    const b = this.bytes(FIXED_SIZE[type] ?? 0)
    switch (type) {
      case 0:
        return b.readUInt8(0)
      case 1:
        return b.readInt8(0)
      case 2:
        return b.readUInt16LE(0)
      case 3:
        return b.readInt16LE(0)
      case 4:
        return b.readUInt32LE(0)
      case 5:
        return b.readInt32LE(0)
      case 10:
        return Number(b.readBigUInt64LE(0))
      case 11:
        return Number(b.readBigInt64LE(0))
      default:
        throw new Error(`expected an integer, found metadata type ${type}`)
    }
  }

  skipValue(type: number): void {
    if (type === STRING) {
      this.skip(this.u64())
      return
    }
    if (type === ARRAY) {
      const itemType = this.u32()
      const count = this.u64()
      if (itemType === STRING) for (let i = 0; i < count; i++) this.skip(this.u64())
      else if (itemType === ARRAY) for (let i = 0; i < count; i++) this.skipValue(ARRAY)
      else this.skip(count * this.fixedSize(itemType))
      return
    }
    this.skip(this.fixedSize(type))
  }

  private fixedSize(type: number): number {
    const size = FIXED_SIZE[type]
    if (size === undefined) throw new Error(`unknown metadata type ${type}`)
    return size
  }

  private skip(n: number): void {
    if (this.pos + n <= this.buf.length) {
      this.pos += n
      return
    }
    // Skip past what is buffered without reading the bytes in between.
    const beyond = n - (this.buf.length - this.pos)
    this.fileOffset += beyond
    if (this.fileOffset > MAX_HEADER_BYTES) throw new Error('metadata is implausibly large')
    this.buf = Buffer.alloc(0)
    this.pos = 0
  }
}
