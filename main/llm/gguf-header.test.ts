import {
  mkdtempSync,
  openSync,
  closeSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ensureFixtureModel } from '../../scripts/fixture-model'
import { GgmlType, writeGguf } from '../../scripts/gguf-writer'
import { checkGgufFile } from './gguf-check'
import { checkGgufHeader, readGgufEmbeddingInfo } from './gguf-header'

const dir = mkdtempSync(join(tmpdir(), 'cmdai-gguf-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let n = 0
function file(bytes: Buffer | string): string {
  const path = join(dir, `f${++n}.gguf`)
  writeFileSync(path, bytes)
  return path
}

/** Little-endian building blocks of a GGUF header. */
const u32 = (v: number) => {
  const b = Buffer.alloc(4)
  b.writeUInt32LE(v)
  return b
}
const u64 = (v: bigint | number) => {
  const b = Buffer.alloc(8)
  b.writeBigUInt64LE(BigInt(v))
  return b
}
const str = (s: string) => Buffer.concat([u64(Buffer.byteLength(s)), Buffer.from(s)])
const head = (tensors: bigint | number, kvs: bigint | number) =>
  Buffer.concat([Buffer.from('GGUF'), u32(3), u64(tensors), u64(kvs)])
/** Padding so that counts are judged against a file of realistic size, not a tiny one. */
const pad = (bytes: number) => Buffer.alloc(bytes)

/** Runs `fn` and says how long it took and how much memory it grew by. */
function measured(fn: () => void): { ms: number; grewMb: number; error: unknown } {
  const before = process.memoryUsage()
  const started = performance.now()
  let error: unknown = null
  try {
    fn()
  } catch (err) {
    error = err
  }
  const after = process.memoryUsage()
  const grew = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers)
  return { ms: performance.now() - started, grewMb: grew / 2 ** 20, error }
}

describe('the GGUF reader', () => {
  it('reads a real model: metadata, tensor table and the size it needs', async () => {
    const path = ensureFixtureModel('tiny')
    const header = checkGgufHeader(path)
    expect(header.architecture).toBe('llama')
    expect(header.tensors).toHaveLength(header.tensorCount)
    expect(header.requiredBytes).toBeLessThanOrEqual(header.fileBytes)
    expect(header.requiredBytes).toBeGreaterThan(header.fileBytes - 32)
    expect(header.metadata.get('tokenizer.ggml.tokens')).toMatchObject({ arrayOf: 8 })
    expect(await checkGgufFile(path)).toMatchObject({ architecture: 'llama', tensorCount: 20 })
  })

  // Each hostile file: a clear sentence, within 250 ms, without growing memory by more than 16 MB.
  const hostile: Array<[string, () => string, RegExp]> = [
    ['an empty file', () => file(''), /0 bytes long, too short/],
    ['a 4-byte file with the magic', () => file('GGUF'), /4 bytes long; a GGUF header alone/],
    [
      'a 15-byte file with the magic',
      () => file(Buffer.concat([Buffer.from('GGUF'), u32(3), pad(7)])),
      /15 bytes long; a GGUF header alone takes 24/,
    ],
    ['another format', () => file(Buffer.alloc(64, 0x41)), /does not start with "GGUF"/],
    [
      'version 1',
      () => file(Buffer.concat([Buffer.from('GGUF'), u32(1), pad(40)])),
      /version 1 is not supported/,
    ],
    [
      'a tensor count of 2^50',
      () => file(Buffer.concat([head(2n ** 50n, 0), pad(4096)])),
      /the tensor count says 1,125,899,906,842,624, more than the rest of the 4,120-byte file can hold/,
    ],
    [
      'a tensor count beyond 2^53',
      () => file(Buffer.concat([head(2n ** 63n, 0), pad(4096)])),
      /tensor count is implausibly large \(9223372036854775808\)/,
    ],
    [
      'a metadata count of 2^40',
      () => file(Buffer.concat([head(1, 2n ** 40n), pad(4096)])),
      /metadata count says .* more than the .*-byte file can hold/,
    ],
    [
      'a key of 2^60 bytes',
      () => file(Buffer.concat([head(0, 1), u64(2n ** 60n), pad(4096)])),
      /a metadata key is implausibly large/,
    ],
    [
      'a key of 2^40 bytes',
      () => file(Buffer.concat([head(0, 1), u64(2n ** 40n), pad(4096)])),
      /a metadata key is 1,099,511,627,776 bytes long \(at most 65535\)/,
    ],
    [
      'a string value of 2^40 bytes',
      () => file(Buffer.concat([head(0, 1), str('general.name'), u32(8), u64(2n ** 40n), pad(64)])),
      /ends at byte .* inside the value of general\.name/,
    ],
    [
      'an array of 2^50 bytes',
      () => file(Buffer.concat([head(0, 1), str('a'), u32(9), u32(0), u64(2n ** 50n), pad(4096)])),
      /the length of a says .* more than the .*-byte file can hold/,
    ],
    [
      'an array of 2^40 strings',
      () =>
        file(Buffer.concat([head(0, 1), str('tokens'), u32(9), u32(8), u64(2n ** 40n), pad(4096)])),
      /the length of tokens says/,
    ],
    [
      'arrays nested too deeply',
      () =>
        file(
          Buffer.concat([
            head(0, 1),
            str('deep'),
            u32(9),
            ...Array.from({ length: 10 }, () => Buffer.concat([u32(9), u64(1)])),
            pad(64),
          ]),
        ),
      /nests arrays too deeply/,
    ],
    [
      'an unknown metadata type',
      () => file(Buffer.concat([head(0, 1), str('x'), u32(99), pad(64)])),
      /x has an unknown metadata type 99/,
    ],
    [
      'a tensor with 1000 dimensions',
      () =>
        file(
          Buffer.concat([
            head(1, 1),
            str('general.architecture'),
            u32(8),
            str('llama'),
            str('t'),
            u32(1000),
            pad(4096),
          ]),
        ),
      /tensor t has 1000 dimensions/,
    ],
    [
      'a tensor whose size overflows',
      () =>
        file(
          Buffer.concat([
            head(1, 0),
            str('t'),
            u32(4),
            u64(2n ** 30n),
            u64(2n ** 30n),
            u64(2n ** 30n),
            u64(1),
            pad(4096),
          ]),
        ),
      /tensor t is implausibly large/,
    ],
  ]

  for (const [name, make, words] of hostile) {
    it(`refuses ${name} at once, with a sentence`, () => {
      const path = make()
      const run = measured(() => checkGgufHeader(path))
      expect(run.error).toMatchObject({ code: 'invalid_input' })
      expect((run.error as Error).message).toMatch(words)
      expect((run.error as Error).message).toContain(path)
      expect(run.ms).toBeLessThan(250)
      expect(run.grewMb).toBeLessThan(16)
    })
  }

  it('says how long a truncated model should be, and where the header is cut', () => {
    const whole = readFileSync(ensureFixtureModel('tiny'))
    const expected = whole.length.toLocaleString('en-US')
    const cut = file(whole.subarray(0, 5_000_000))
    expect(() => checkGgufHeader(cut)).toThrow(
      `${cut} is truncated: 5,000,000 bytes on disk, the model needs ${expected}`,
    )
    // Cut inside the tokenizer's metadata: the sentence says so rather than guessing a size.
    const cutEarly = file(whole.subarray(0, 1_000_000))
    expect(() => checkGgufHeader(cutEarly)).toThrow(
      /the 1,000,000-byte file can hold \(the file is truncated or corrupt\)/,
    )
  })

  it('checks tensor data against the file: offsets, alignment, missing tensors', () => {
    const path = join(dir, 'small.gguf')
    writeGguf(path, { 'general.architecture': { type: 'str', value: 'llama' } }, [
      { name: 'a', dims: [64, 4], type: GgmlType.F32, fill: (b) => b.fill(1) },
      { name: 'b', dims: [32, 2], type: GgmlType.Q8_0, fill: (b) => b.fill(2) },
    ])
    const header = checkGgufHeader(path)
    expect(header.tensors.map((t) => [t.name, t.bytes])).toEqual([
      ['a', 64 * 4 * 4],
      ['b', 2 * 34],
    ])
    expect(header.requiredBytes).toBe(header.dataOffset + 1024 + 68)

    const noTensors = join(dir, 'empty-model.gguf')
    writeGguf(noTensors, { 'general.architecture': { type: 'str', value: 'llama' } }, [])
    expect(() => checkGgufHeader(noTensors)).toThrow(/holds no tensors/)
    const noArch = join(dir, 'no-arch.gguf')
    writeGguf(noArch, {}, [{ name: 'a', dims: [4], type: GgmlType.F32, fill: () => undefined }])
    expect(() => checkGgufHeader(noArch)).toThrow(/general\.architecture is missing/)

    // A tensor offset that is not aligned.
    const bytes = readFileSync(path)
    const at = bytes.indexOf(Buffer.from('b')) + 1 + 4 + 16 + 4
    bytes.writeBigUInt64LE(1028n, at)
    expect(() => checkGgufHeader(file(bytes))).toThrow(/tensor b's data is not aligned/)
  })

  it('gives up after its deadline on a file of millions of tiny entries', () => {
    const path = join(dir, 'many.gguf')
    const entries = 1_500_000
    const fd = openSync(path, 'w')
    try {
      writeSync(fd, head(0, entries))
      const entry = Buffer.concat([str('k'), u32(0), Buffer.from([1])])
      const block = Buffer.concat(Array.from({ length: 10_000 }, () => entry))
      for (let i = 0; i < entries / 10_000; i++) writeSync(fd, block)
    } finally {
      closeSync(fd)
    }
    const run = measured(() => checkGgufHeader(path, { timeoutMs: 20 }))
    expect(run.error).toMatchObject({ code: 'timeout' })
    expect((run.error as Error).message).toMatch(/took too long/)
    expect(run.ms).toBeLessThan(500)
    expect(run.grewMb).toBeLessThan(16)
  })

  it('reads the embedding size and stops early; refuses a model without one', () => {
    const path = join(dir, 'embed.gguf')
    writeGguf(
      path,
      {
        'general.architecture': { type: 'str', value: 'nomic-bert' },
        'nomic-bert.embedding_length': { type: 'u32', value: 768 },
      },
      [{ name: 'a', dims: [4], type: GgmlType.F32, fill: () => undefined }],
    )
    expect(readGgufEmbeddingInfo(path)).toEqual({
      architecture: 'nomic-bert',
      embeddingLength: 768,
    })
    const noLength = join(dir, 'no-length.gguf')
    writeGguf(noLength, { 'general.architecture': { type: 'str', value: 'llama' } }, [
      { name: 'a', dims: [4], type: GgmlType.F32, fill: () => undefined },
    ])
    expect(() => readGgufEmbeddingInfo(noLength)).toThrow(
      /has no llama\.embedding_length: it cannot produce embeddings/,
    )
    expect(() => readGgufEmbeddingInfo(join(dir, 'missing.gguf'))).toThrow(/not found/)
  })
})
