/**
 * Fixture models: valid llama-architecture GGUF files with random weights and a real tokenizer
 * (GPT-2 byte-level BPE), so tests and benchmarks load a real file through the real loader on a
 * machine where no weights can be downloaded. Speed depends on shape, not on the weight values.
 */
import { randomFillSync } from 'node:crypto'
import { existsSync, mkdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { buildFixtureVocab } from './fixture-tokenizer'
import {
  GgmlType,
  writeGguf,
  type GgmlTypeId,
  type MetaValue,
  type TensorSpec,
} from './gguf-writer'

export interface FixtureShape {
  name: string
  embedding: number
  layers: number
  heads: number
  kvHeads: number
  feedForward: number
  /** Vocabulary size, from o200k's ranks (0: GPT-2's 50,256 ranks plus 3 specials). */
  vocab: number
  contextLength: number
  ropeBase: number
  /** Type of the 2-D weight matrices; norms are always F32. */
  matrixType: GgmlTypeId
}

export const FIXTURE_SHAPES = {
  tiny: {
    name: 'tiny',
    embedding: 64,
    layers: 2,
    heads: 4,
    kvHeads: 2,
    feedForward: 128,
    vocab: 0,
    contextLength: 4096,
    ropeBase: 10000,
    matrixType: GgmlType.F32,
  },
  // Qwen2.5-0.5B-Instruct's dimensions (tied embeddings), as a llama: no q/k/v biases.
  'qwen2.5-0.5b': {
    name: 'qwen2.5-0.5b',
    embedding: 896,
    layers: 24,
    heads: 14,
    kvHeads: 2,
    feedForward: 4864,
    vocab: 151936,
    contextLength: 32768,
    ropeBase: 1000000,
    matrixType: GgmlType.Q8_0,
  },
  // A draft model for the one above: the same vocabulary (speculative decoding needs it), tiny.
  'qwen2.5-draft': {
    name: 'qwen2.5-draft',
    embedding: 64,
    layers: 2,
    heads: 4,
    kvHeads: 2,
    feedForward: 128,
    vocab: 151936,
    contextLength: 32768,
    ropeBase: 1000000,
    matrixType: GgmlType.Q8_0,
  },
} as const satisfies Record<string, FixtureShape>

export type FixtureShapeName = keyof typeof FIXTURE_SHAPES

const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"

/** Weights with standard deviation ~0.02 (GPT-2's initialisation), so activations stay finite. */
const WEIGHT_STD = 0.02
const INT8_STD = 73.9

function f32ToF16Bits(value: number): number {
  const f = new Float32Array([value])
  const x = new Uint32Array(f.buffer)[0]!
  const sign = (x >>> 16) & 0x8000
  const exp = ((x >>> 23) & 0xff) - 127 + 15
  const mant = (x >>> 13) & 0x3ff
  if (exp <= 0) return sign
  if (exp >= 31) return sign | 0x7c00
  return sign | (exp << 10) | mant
}

function fillRandom(out: Buffer, type: GgmlTypeId): void {
  if (type === GgmlType.Q8_0) {
    randomFillSync(out)
    const scale = f32ToF16Bits(WEIGHT_STD / INT8_STD)
    for (let off = 0; off < out.length; off += 34) out.writeUInt16LE(scale, off)
    return
  }
  const n = out.length / (type === GgmlType.F32 ? 4 : 2)
  const noise = new Int8Array(n)
  randomFillSync(noise)
  const k = WEIGHT_STD / INT8_STD
  if (type === GgmlType.F32) {
    const values = new Float32Array(out.buffer, out.byteOffset, n)
    for (let i = 0; i < n; i++) values[i] = noise[i]! * k
  } else {
    for (let i = 0; i < n; i++) out.writeUInt16LE(f32ToF16Bits(noise[i]! * k), i * 2)
  }
}

function ones(out: Buffer): void {
  new Float32Array(out.buffer, out.byteOffset, out.length / 4).fill(1)
}

/** Writes a fixture model of `shape` to `out`. Returns the file path. */
export function makeFixtureModel(shapeName: FixtureShapeName, out: string): string {
  const shape: FixtureShape = FIXTURE_SHAPES[shapeName]
  const vocab = buildFixtureVocab(shape.vocab)
  const nVocab = vocab.tokens.length
  const e = shape.embedding
  const kv = (e / shape.heads) * shape.kvHeads
  const ff = shape.feedForward
  const m = shape.matrixType
  const matrix = (name: string, cols: number, rows: number): TensorSpec => ({
    name,
    dims: [cols, rows],
    type: m,
    fill: (buf) => fillRandom(buf, m),
  })
  const norm = (name: string): TensorSpec => ({
    name,
    dims: [e],
    type: GgmlType.F32,
    fill: ones,
  })

  const tensors: TensorSpec[] = [matrix('token_embd.weight', e, nVocab), norm('output_norm.weight')]
  for (let l = 0; l < shape.layers; l++) {
    tensors.push(
      norm(`blk.${l}.attn_norm.weight`),
      matrix(`blk.${l}.attn_q.weight`, e, e),
      matrix(`blk.${l}.attn_k.weight`, e, kv),
      matrix(`blk.${l}.attn_v.weight`, e, kv),
      matrix(`blk.${l}.attn_output.weight`, e, e),
      norm(`blk.${l}.ffn_norm.weight`),
      matrix(`blk.${l}.ffn_gate.weight`, e, ff),
      matrix(`blk.${l}.ffn_up.weight`, e, ff),
      matrix(`blk.${l}.ffn_down.weight`, ff, e),
    )
  }

  const fileType = m === GgmlType.Q8_0 ? 7 : m === GgmlType.F16 ? 1 : 0
  const metadata: Record<string, MetaValue> = {
    'general.architecture': { type: 'str', value: 'llama' },
    'general.name': { type: 'str', value: `cmdai-fixture-${shape.name}` },
    'general.description': {
      type: 'str',
      value: 'Random weights for tests and benchmarks (cmdai scripts/make-fixture-model.ts)',
    },
    'general.file_type': { type: 'u32', value: fileType },
    'general.alignment': { type: 'u32', value: 32 },
    'llama.context_length': { type: 'u32', value: shape.contextLength },
    'llama.embedding_length': { type: 'u32', value: e },
    'llama.block_count': { type: 'u32', value: shape.layers },
    'llama.feed_forward_length': { type: 'u32', value: ff },
    'llama.attention.head_count': { type: 'u32', value: shape.heads },
    'llama.attention.head_count_kv': { type: 'u32', value: shape.kvHeads },
    'llama.rope.dimension_count': { type: 'u32', value: e / shape.heads },
    'llama.rope.freq_base': { type: 'f32', value: shape.ropeBase },
    'llama.attention.layer_norm_rms_epsilon': { type: 'f32', value: 1e-6 },
    'llama.vocab_size': { type: 'u32', value: nVocab },
    'tokenizer.ggml.model': { type: 'str', value: 'gpt2' },
    'tokenizer.ggml.pre': { type: 'str', value: vocab.pre },
    'tokenizer.ggml.tokens': { type: 'str[]', value: vocab.tokens },
    'tokenizer.ggml.token_type': { type: 'i32[]', value: vocab.types },
    'tokenizer.ggml.merges': { type: 'str[]', value: vocab.merges },
    'tokenizer.ggml.bos_token_id': { type: 'u32', value: vocab.bosId },
    'tokenizer.ggml.eos_token_id': { type: 'u32', value: vocab.imEndId },
    'tokenizer.ggml.padding_token_id': { type: 'u32', value: vocab.eosId },
    'tokenizer.ggml.add_bos_token': { type: 'bool', value: false },
    'tokenizer.chat_template': { type: 'str', value: CHATML_TEMPLATE },
  }
  mkdirSync(dirname(resolve(out)), { recursive: true })
  writeGguf(out, metadata, tensors)
  return out
}

/** Where generated fixtures are cached (gitignored). */
export function fixtureCacheDir(): string {
  return resolve(import.meta.dirname, '..', '.cache', 'fixtures')
}

/** Bumped whenever the generator's output changes, so stale cached fixtures are not reused. */
const FIXTURE_VERSION = 2

/** Returns the cached fixture of `shape`, generating it on first use. */
export function ensureFixtureModel(shapeName: FixtureShapeName): string {
  const path = join(fixtureCacheDir(), `${shapeName}-v${FIXTURE_VERSION}.gguf`)
  if (!existsSync(path)) makeFixtureModel(shapeName, path)
  return path
}
