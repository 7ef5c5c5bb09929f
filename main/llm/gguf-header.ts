import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { CmdaiError } from '../../contract'

/**
 * The one reader of GGUF files (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md): the
 * header, the metadata and the tensor table, validated as they are read. Every count and length in
 * the file is checked against the bytes the file still has before anything is read, skipped or
 * allocated, so a hostile or broken file (a 15-byte file with the magic, a tensor count of 2^60, a
 * string "of 2^60 bytes") fails in microseconds with a sentence, instead of making a reader
 * allocate gigabytes. A deadline bounds the rest (millions of tiny entries). Hand-rolled because
 * node-llama-cpp's `readGgufFileInfo` trusts these counts (a 15-byte file grew the server to 5 GB).
 */

/** A metadata value as kept here: scalars and short strings; arrays by their length only. */
export type GgufValue = number | bigint | boolean | string | { arrayOf: number; length: number }

export interface GgufTensor {
  name: string
  /** ggml order: the contiguous row length first. */
  dims: number[]
  /** `ggml_type` id. */
  type: number
  /** Offset of the data from the start of the data section. */
  offset: number
  /** Bytes of data, or null for a tensor type this reader does not know. */
  bytes: number | null
}

export interface GgufHeader {
  version: number
  tensorCount: number
  /** Metadata scalars by key (strings longer than 4 KiB are left out). */
  metadata: Map<string, GgufValue>
  architecture: string | null
  name: string | null
  /** Absolute offset of the tensor data section (after the aligned header). */
  dataOffset: number
  tensors: GgufTensor[]
  /** Bytes the file needs to hold every tensor's data: its expected size. */
  requiredBytes: number
  fileBytes: number
}

export interface ReadOptions {
  /** Give up after this long (ms), with an error. Default 5 s. */
  timeoutMs?: number
  /** Stop reading metadata once this returns true (the tensor table is then not read). */
  enough?: (metadata: Map<string, GgufValue>) => boolean
}

/** What an embedder needs to know about a model file before loading it. */
export interface GgufEmbeddingInfo {
  architecture: string
  /** `<arch>.embedding_length`: the size of the vectors the model produces. */
  embeddingLength: number
}

/** Fixed value sizes of metadata types (gguf.h `gguf_type`); 8 (string) and 9 (array) vary. */
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
/** The smallest header: magic, version, tensor count, metadata count. */
const MIN_HEADER = 24
/** Keys and tensor names are at most this long (gguf.h: GGUF_MAX_KEY_LENGTH is 65535 bytes). */
const MAX_NAME = 65_535
/** String values kept in `metadata`; longer ones (chat templates) are skipped. */
const MAX_KEPT_STRING = 4096
/** ggml tensors have at most 4 dimensions (GGML_MAX_DIMS). */
const MAX_DIMS = 4
/** Arrays of arrays nest this deep at most. */
const MAX_ARRAY_DEPTH = 3
const CHUNK = 64 * 1024

/**
 * [elements per block, bytes per block] of every `ggml_type` in ggml.h (ids 4, 5, 31-33 and 36-38
 * are removed types). A tensor of another type is checked for its offset only.
 */
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
  16: [256, 66], // IQ2_XXS
  17: [256, 74], // IQ2_XS
  18: [256, 98], // IQ3_XXS
  19: [256, 50], // IQ1_S
  20: [32, 18], // IQ4_NL
  21: [256, 110], // IQ3_S
  22: [256, 82], // IQ2_S
  23: [256, 136], // IQ4_XS
  24: [1, 1], // I8
  25: [1, 2], // I16
  26: [1, 4], // I32
  27: [1, 8], // I64
  28: [1, 8], // F64
  29: [256, 56], // IQ1_M
  30: [1, 2], // BF16
  34: [256, 54], // TQ1_0
  35: [256, 66], // TQ2_0
  39: [32, 17], // MXFP4
}

/** A problem with the file's content (not with reading it). */
class Malformed extends Error {}

/**
 * Reads and validates the GGUF header of `path`: metadata, tensor table, and whether the file is
 * long enough for every tensor's data. Throws a CmdaiError (`not_found`, `invalid_input`,
 * `timeout`) with a sentence naming the file; never allocates more than the file could justify.
 */
export function readGgufHeader(path: string, options: ReadOptions = {}): GgufHeader {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch {
    throw new CmdaiError('not_found', `Model file not found: ${path}`)
  }
  try {
    const stat = fstatSync(fd)
    if (!stat.isFile()) throw new CmdaiError('invalid_input', `${path} is not a file`)
    const reader = new Reader(fd, stat.size, Date.now() + (options.timeoutMs ?? 5000))
    return parse(reader, options)
  } catch (err) {
    if (err instanceof CmdaiError) throw err
    if (err instanceof Deadline)
      throw new CmdaiError('timeout', `${path}: reading its GGUF header took too long; giving up`)
    if (err instanceof Malformed)
      throw new CmdaiError(
        'invalid_input',
        `${path} is not a valid GGUF model file: ${err.message}`,
      )
    const why = err instanceof Error ? err.message : String(err)
    throw new CmdaiError('unavailable', `Could not read ${path}: ${why}`)
  } finally {
    closeSync(fd)
  }
}

/**
 * Checks that `path` is a complete GGUF file and throws a CmdaiError naming what is wrong (for a
 * truncated file: its size and the size it should have).
 */
export function checkGgufHeader(path: string, options: ReadOptions = {}): GgufHeader {
  const header = readGgufHeader(path, options)
  const invalid = (why: string) =>
    new CmdaiError('invalid_input', `${path} is not a valid GGUF model file: ${why}`)
  if (!header.architecture) throw invalid('general.architecture is missing')
  if (header.tensors.length === 0) throw invalid('it holds no tensors')
  if (header.requiredBytes > header.fileBytes) {
    throw new CmdaiError(
      'invalid_input',
      `${path} is truncated: ${formatCount(header.fileBytes)} bytes on disk, the model needs ${formatCount(header.requiredBytes)}`,
    )
  }
  return header
}

/**
 * Reads `general.architecture` and `<arch>.embedding_length`, synchronously and without loading
 * the model: the history store must know an embedder's dimensions when it is handed one. Reading
 * stops as soon as both keys are seen (converters write them first: usually a few kilobytes).
 */
export function readGgufEmbeddingInfo(path: string): GgufEmbeddingInfo {
  const archOf = (m: Map<string, GgufValue>) => {
    const arch = m.get('general.architecture')
    return typeof arch === 'string' ? arch : null
  }
  const header = readGgufHeader(path, {
    enough: (m) => {
      const arch = archOf(m)
      return arch !== null && m.has(`${arch}.embedding_length`)
    },
  })
  const architecture = archOf(header.metadata)
  if (!architecture) {
    throw new CmdaiError(
      'invalid_input',
      `${path} is not a valid GGUF model file: general.architecture is missing`,
    )
  }
  const length = header.metadata.get(`${architecture}.embedding_length`)
  if (typeof length !== 'number' || !Number.isInteger(length) || length < 1) {
    throw new CmdaiError(
      'invalid_input',
      `${path} has no ${architecture}.embedding_length: it cannot produce embeddings`,
    )
  }
  return { architecture, embeddingLength: length }
}

function parse(r: Reader, options: ReadOptions): GgufHeader {
  if (r.fileSize < 4)
    throw new Malformed(`the file is ${r.fileSize} bytes long, too short to be one`)
  if (r.bytes(4).toString('latin1') !== 'GGUF') throw new Malformed('it does not start with "GGUF"')
  if (r.fileSize < MIN_HEADER)
    throw new Malformed(
      `the file is ${r.fileSize} bytes long; a GGUF header alone takes ${MIN_HEADER}`,
    )
  const version = r.u32()
  if (version < 2 || version > 3) throw new Malformed(`GGUF version ${version} is not supported`)
  // Each tensor info takes at least 8 (name) + 4 (dims) + 4 (type) + 8 (offset) bytes; each
  // metadata entry at least 8 (key) + 4 (type) + 1 (value).
  const tensorCount = r.count('the tensor count', 24)
  const kvCount = r.count('the metadata count', 13)

  const metadata = new Map<string, GgufValue>()
  let stopped = false
  for (let i = 0; i < kvCount; i++) {
    r.tick()
    const key = r.string('a metadata key', MAX_NAME)
    const type = r.u32()
    const value = readValue(r, type, key)
    if (value !== undefined) metadata.set(key, value)
    if (options.enough?.(metadata)) {
      stopped = true
      break
    }
  }

  const architecture = stringValue(metadata.get('general.architecture'))
  const name = stringValue(metadata.get('general.name'))
  const header: GgufHeader = {
    version,
    tensorCount,
    metadata,
    architecture,
    name,
    dataOffset: 0,
    tensors: [],
    requiredBytes: 0,
    fileBytes: r.fileSize,
  }
  if (stopped) return header

  const alignment = metadata.get('general.alignment') ?? 32
  if (typeof alignment !== 'number' || alignment < 1 || (alignment & (alignment - 1)) !== 0)
    throw new Malformed('general.alignment must be a power of two')

  for (let i = 0; i < tensorCount; i++) {
    r.tick()
    const tensorName = r.string('a tensor name', MAX_NAME)
    const nDims = r.u32()
    if (nDims < 1 || nDims > MAX_DIMS)
      throw new Malformed(`tensor ${tensorName} has ${nDims} dimensions (1 to ${MAX_DIMS} allowed)`)
    const dims: number[] = []
    let elements = 1
    for (let d = 0; d < nDims; d++) {
      const size = r.u64('a tensor dimension')
      elements *= size
      if (!Number.isSafeInteger(elements))
        throw new Malformed(`tensor ${tensorName} is implausibly large`)
      dims.push(size)
    }
    const type = r.u32()
    const offset = r.u64('a tensor offset')
    if (offset % alignment !== 0)
      throw new Malformed(`tensor ${tensorName}'s data is not aligned to ${alignment} bytes`)
    const block = BLOCK[type]
    if (block && (dims[0] ?? 0) % block[0] !== 0)
      throw new Malformed(`tensor ${tensorName}'s rows do not fit its type's blocks`)
    const bytes = block ? (elements / block[0]) * block[1] : null
    header.tensors.push({ name: tensorName, dims, type, offset, bytes })
  }
  header.dataOffset = Math.ceil(r.position / alignment) * alignment
  for (const t of header.tensors) {
    const end = header.dataOffset + t.offset + (t.bytes ?? 0)
    if (!Number.isSafeInteger(end)) throw new Malformed(`tensor ${t.name} lies beyond any file`)
    header.requiredBytes = Math.max(header.requiredBytes, end)
  }
  header.requiredBytes = Math.max(header.requiredBytes, header.dataOffset)
  return header
}

/** A metadata value: kept (scalars, short strings, array lengths) or skipped (undefined). */
function readValue(r: Reader, type: number, key: string): GgufValue | undefined {
  switch (type) {
    case 0:
      return r.bytes(1).readUInt8(0)
    case 1:
      return r.bytes(1).readInt8(0)
    case 2:
      return r.bytes(2).readUInt16LE(0)
    case 3:
      return r.bytes(2).readInt16LE(0)
    case 4:
      return r.u32()
    case 5:
      return r.bytes(4).readInt32LE(0)
    case 6:
      return r.bytes(4).readFloatLE(0)
    case 7:
      return r.bytes(1).readUInt8(0) !== 0
    case 10:
    case 11: {
      const b = r.bytes(8)
      const v = type === 10 ? b.readBigUInt64LE(0) : b.readBigInt64LE(0)
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(v)
        : v
    }
    case 12:
      return r.bytes(8).readDoubleLE(0)
    case STRING: {
      const length = r.length(`the value of ${key}`)
      if (length > MAX_KEPT_STRING) {
        r.skip(length)
        return undefined
      }
      return r.bytes(length).toString('utf8')
    }
    case ARRAY:
      return skipArray(r, key, 1)
    default:
      throw new Malformed(`${key} has an unknown metadata type ${type}`)
  }
}

function skipArray(r: Reader, key: string, depth: number): { arrayOf: number; length: number } {
  if (depth > MAX_ARRAY_DEPTH) throw new Malformed(`${key} nests arrays too deeply`)
  const itemType = r.u32()
  if (itemType === STRING) {
    const count = r.count(`the length of ${key}`, 8)
    for (let i = 0; i < count; i++) {
      if ((i & 0xfff) === 0) r.tick()
      r.skip(r.length(`an item of ${key}`))
    }
    return { arrayOf: itemType, length: count }
  }
  if (itemType === ARRAY) {
    const count = r.count(`the length of ${key}`, 12)
    for (let i = 0; i < count; i++) {
      if ((i & 0xfff) === 0) r.tick()
      skipArray(r, key, depth + 1)
    }
    return { arrayOf: itemType, length: count }
  }
  const size = FIXED_SIZE[itemType]
  if (size === undefined) throw new Malformed(`${key} is an array of unknown type ${itemType}`)
  const count = r.count(`the length of ${key}`, size)
  r.skip(count * size)
  return { arrayOf: itemType, length: count }
}

function stringValue(value: GgufValue | undefined): string | null {
  return typeof value === 'string' ? value : null
}

function formatCount(n: number): string {
  return n.toLocaleString('en-US')
}

class Deadline extends Error {}

/**
 * Buffered little-endian reads from a file descriptor, each checked against what the file still
 * holds. The buffer is at most one chunk plus the largest single read (a name: 64 KiB).
 */
class Reader {
  private buf = Buffer.alloc(0)
  private pos = 0
  /** Absolute offset of `buf[0]`. */
  private bufStart = 0

  constructor(
    private readonly fd: number,
    readonly fileSize: number,
    private readonly deadline: number,
  ) {}

  get position(): number {
    return this.bufStart + this.pos
  }

  private remaining(): number {
    return this.fileSize - this.position
  }

  tick(): void {
    if (Date.now() > this.deadline) throw new Deadline()
  }

  private need(n: number, what: string): void {
    if (n > this.remaining()) {
      throw new Malformed(
        `it ends at byte ${formatCount(this.fileSize)} inside ${what} (the file is truncated or corrupt)`,
      )
    }
  }

  bytes(n: number, what = 'its header'): Buffer {
    this.need(n, what)
    if (this.pos + n > this.buf.length) {
      const rest = this.buf.subarray(this.pos)
      const want = Math.min(
        Math.max(n - rest.length, CHUNK),
        this.fileSize - this.position - rest.length,
      )
      const chunk = Buffer.allocUnsafe(want)
      const read = readSync(this.fd, chunk, 0, want, this.position + rest.length)
      this.bufStart = this.position
      this.buf = Buffer.concat([rest, chunk.subarray(0, read)])
      this.pos = 0
      if (this.buf.length < n) throw new Malformed('the file changed while it was read')
    }
    const out = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return out
  }

  u32(): number {
    return this.bytes(4).readUInt32LE(0)
  }

  u64(what: string): number {
    const v = this.bytes(8).readBigUInt64LE(0)
    if (v > BigInt(Number.MAX_SAFE_INTEGER))
      throw new Malformed(`${what} is implausibly large (${v})`)
    return Number(v)
  }

  /** A count of items that take at least `minItemBytes` each: it must fit in the rest of the file. */
  count(what: string, minItemBytes: number): number {
    const n = this.u64(what)
    if (n * minItemBytes > this.remaining())
      throw new Malformed(
        `${what} says ${formatCount(n)}, more than the rest of the ${formatCount(this.fileSize)}-byte file can hold (the file is truncated or corrupt)`,
      )
    return n
  }

  /** A byte length: it must fit in the rest of the file. */
  length(what: string): number {
    const n = this.u64(what)
    this.need(n, what)
    return n
  }

  string(what: string, max: number): string {
    const n = this.u64(what)
    if (n > max) throw new Malformed(`${what} is ${formatCount(n)} bytes long (at most ${max})`)
    return this.bytes(n, what).toString('utf8')
  }

  skip(n: number): void {
    this.need(n, 'its metadata')
    if (this.pos + n <= this.buf.length) {
      this.pos += n
      return
    }
    // Skip past what is buffered without reading the bytes in between.
    this.bufStart = this.position + n
    this.buf = Buffer.alloc(0)
    this.pos = 0
  }
}
