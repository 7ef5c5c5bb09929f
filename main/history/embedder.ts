/**
 * Turns texts into vectors for semantic search. The model engine supplies one backed by an
 * embedding model (node-llama-cpp); history works without one (semantic search then answers
 * `unavailable`).
 */
export interface Embedder {
  /** A stable name: embeddings from a different model are recomputed. */
  readonly model: string
  readonly dimensions: number
  embed(texts: string[]): Promise<Float32Array[]>
}

/**
 * A deterministic, dependency-free embedder: hashed character trigrams and words, L2-normalised.
 * It captures spelling and token overlap, not meaning; it exists for tests and the benchmark (the
 * vector index's speed depends on the dimensions and row count, not on where vectors come from)
 * and as a fallback when no embedding model is installed.
 */
export class HashedTrigramEmbedder implements Embedder {
  readonly model: string

  constructor(readonly dimensions = 256) {
    this.model = `hashed-trigram-${dimensions}`
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.embedOne(t))
  }

  embedOne(text: string): Float32Array {
    const v = new Float32Array(this.dimensions)
    const lower = text.toLowerCase()
    const padded = ` ${lower} `
    for (let i = 0; i + 3 <= padded.length; i++) this.add(v, padded.slice(i, i + 3), 1)
    for (const word of lower.split(/[^\p{L}\p{N}_]+/u)) if (word) this.add(v, `w:${word}`, 2)
    let norm = 0
    for (const x of v) norm += x * x
    norm = Math.sqrt(norm) || 1
    for (let i = 0; i < v.length; i++) v[i] = v[i]! / norm
    return v
  }

  private add(v: Float32Array, feature: string, weight: number): void {
    // FNV-1a; the top bit picks the sign so that collisions cancel out on average.
    let h = 0x811c9dc5
    for (let i = 0; i < feature.length; i++) {
      h ^= feature.charCodeAt(i)
      h = Math.imul(h, 0x01000193)
    }
    const index = (h >>> 0) % this.dimensions
    v[index] = v[index]! + (h & 0x80000000 ? -weight : weight)
  }
}

/** pgvector's text form: `[0.1,0.2,...]`. */
export function toVectorLiteral(v: Float32Array): string {
  let out = '['
  for (let i = 0; i < v.length; i++)
    out += (i ? ',' : '') + (v[i]! === 0 ? '0' : v[i]!.toPrecision(6))
  return out + ']'
}
