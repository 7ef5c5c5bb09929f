/**
 * A minimal GGUF (v3) writer: header, key/value metadata, tensor infos, aligned tensor data.
 * Enough to write llama-architecture models that llama.cpp loads. Tensor data is produced by a
 * callback per tensor and streamed to disk, so multi-hundred-megabyte files never sit in memory.
 */
import { closeSync, openSync, renameSync, writeSync } from 'node:fs'

/** GGUF metadata value types (gguf.h `gguf_type`). */
const T = {
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
} as const

/** ggml tensor types used here (ggml.h `ggml_type`). */
export const GgmlType = { F32: 0, F16: 1, Q8_0: 8 } as const
export type GgmlTypeId = (typeof GgmlType)[keyof typeof GgmlType]

export type MetaValue =
  | { type: 'u32'; value: number }
  | { type: 'i32'; value: number }
  | { type: 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'str'; value: string }
  | { type: 'str[]'; value: readonly string[] }
  | { type: 'i32[]'; value: Int32Array | readonly number[] }

export interface TensorSpec {
  name: string
  /** ggml order: ne[0] (the contiguous row length) first. */
  dims: number[]
  type: GgmlTypeId
  /** Fills `out` (exactly `tensorByteSize` bytes, may be called in one go). */
  fill(out: Buffer): void
}

const ALIGNMENT = 32

export function tensorByteSize(dims: readonly number[], type: GgmlTypeId): number {
  const n = dims.reduce((a, b) => a * b, 1)
  if (type === GgmlType.F32) return n * 4
  if (type === GgmlType.F16) return n * 2
  if ((dims[0] ?? 0) % 32 !== 0) throw new Error('Q8_0 rows must be a multiple of 32')
  return (n / 32) * 34
}

/** Collects bytes in growing chunks, then concatenates once. */
class ByteSink {
  private readonly parts: Buffer[] = []
  length = 0

  push(buf: Buffer): void {
    this.parts.push(buf)
    this.length += buf.length
  }
  u32(v: number): void {
    const b = Buffer.alloc(4)
    b.writeUInt32LE(v)
    this.push(b)
  }
  i32(v: number): void {
    const b = Buffer.alloc(4)
    b.writeInt32LE(v)
    this.push(b)
  }
  u64(v: number): void {
    const b = Buffer.alloc(8)
    b.writeBigUInt64LE(BigInt(v))
    this.push(b)
  }
  f32(v: number): void {
    const b = Buffer.alloc(4)
    b.writeFloatLE(v)
    this.push(b)
  }
  str(s: string): void {
    const bytes = Buffer.from(s, 'utf8')
    this.u64(bytes.length)
    this.push(bytes)
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.parts, this.length)
  }
}

function writeMeta(sink: ByteSink, key: string, meta: MetaValue): void {
  sink.str(key)
  switch (meta.type) {
    case 'u32':
      sink.u32(T.UINT32)
      sink.u32(meta.value)
      break
    case 'i32':
      sink.u32(T.INT32)
      sink.i32(meta.value)
      break
    case 'f32':
      sink.u32(T.FLOAT32)
      sink.f32(meta.value)
      break
    case 'bool':
      sink.u32(T.BOOL)
      sink.push(Buffer.from([meta.value ? 1 : 0]))
      break
    case 'str':
      sink.u32(T.STRING)
      sink.str(meta.value)
      break
    case 'str[]':
      sink.u32(T.ARRAY)
      sink.u32(T.STRING)
      sink.u64(meta.value.length)
      for (const s of meta.value) sink.str(s)
      break
    case 'i32[]': {
      sink.u32(T.ARRAY)
      sink.u32(T.INT32)
      sink.u64(meta.value.length)
      const b = Buffer.alloc(meta.value.length * 4)
      meta.value.forEach((v, i) => b.writeInt32LE(v, i * 4))
      sink.push(b)
      break
    }
  }
}

const pad = (n: number) => (ALIGNMENT - (n % ALIGNMENT)) % ALIGNMENT

/** Writes the file to `path` (via a temporary name, so a crash never leaves a half file behind). */
export function writeGguf(
  path: string,
  metadata: Record<string, MetaValue>,
  tensors: readonly TensorSpec[],
): void {
  const head = new ByteSink()
  head.push(Buffer.from('GGUF', 'ascii'))
  head.u32(3)
  head.u64(tensors.length)
  head.u64(Object.keys(metadata).length)
  for (const [key, value] of Object.entries(metadata)) writeMeta(head, key, value)

  let offset = 0
  const sizes: number[] = []
  for (const t of tensors) {
    head.str(t.name)
    head.u32(t.dims.length)
    for (const d of t.dims) head.u64(d)
    head.u32(t.type)
    head.u64(offset)
    const size = tensorByteSize(t.dims, t.type)
    sizes.push(size)
    offset += size + pad(size)
  }
  head.push(Buffer.alloc(pad(head.length)))

  const tmp = `${path}.tmp-${process.pid}`
  const fd = openSync(tmp, 'w')
  try {
    writeSync(fd, head.toBuffer())
    tensors.forEach((t, i) => {
      const size = sizes[i] ?? 0
      const buf = Buffer.allocUnsafe(size + pad(size))
      buf.fill(0, size)
      t.fill(buf.subarray(0, size))
      writeSync(fd, buf)
    })
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, path)
}
