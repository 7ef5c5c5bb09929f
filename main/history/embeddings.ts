import type { PGlite } from '@electric-sql/pglite'
import { toVectorLiteral, type Embedder } from './embedder'

const BATCH = 64

/**
 * Computes embeddings of command texts in the background, one small batch at a time so that
 * searches and writes interleave. The pgvector table is their store of record; `onStored` hands
 * each stored batch to the in-memory index that serves semantic search (an exact scan, measured
 * faster here than an HNSW index in PGlite, whose upkeep also cost ~4 ms per text).
 */
export class EmbeddingIndexer {
  private running = false
  private stopped = false
  private timer: NodeJS.Timeout | null = null
  private loop: Promise<void> = Promise.resolve()
  private indexReady = false

  constructor(
    private readonly db: PGlite,
    readonly embedder: Embedder,
    private readonly onStored: (ids: number[], vectors: Float32Array[]) => void = () => {},
  ) {}

  start(): void {
    this.wake()
  }

  /** New texts were written: schedule a pass soon (batched, off the write path). */
  wake(): void {
    if (this.stopped || this.running || this.timer) return
    this.timer = setTimeout(() => {
      this.timer = null
      this.loop = this.run().catch((err) => {
        console.error('[cmdai] computing history embeddings failed:', err)
      })
    }, 50)
  }

  stop(): void {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }

  async idle(): Promise<void> {
    await this.loop
  }

  /** Embeds everything now (tests and the benchmark). */
  async drain(): Promise<void> {
    await this.loop
    await this.ensureIndex()
    while (await this.step()) {
      // keep going
    }
  }

  async pending(): Promise<number> {
    const res = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM command_texts t
       WHERE NOT EXISTS (SELECT 1 FROM text_embeddings e WHERE e.text_id = t.id AND e.model = $1)`,
      [this.embedder.model],
    )
    return res.rows[0]?.n ?? 0
  }

  private async run(): Promise<void> {
    if (this.running) return
    this.running = true
    try {
      await this.ensureIndex()
      while (!this.stopped && (await this.step())) {
        // Yield between batches so that requests are not starved.
        await new Promise((resolve) => setImmediate(resolve))
      }
    } finally {
      this.running = false
    }
  }

  private async ensureIndex(): Promise<void> {
    if (this.indexReady) return
    const dims = Math.trunc(this.embedder.dimensions)
    // Embeddings of another model are derived data: drop them, they are recomputed.
    await this.db.query('DELETE FROM text_embeddings WHERE model <> $1 OR dims <> $2', [
      this.embedder.model,
      dims,
    ])
    this.indexReady = true
  }

  /** Embeds one batch; false when nothing was left. */
  private async step(): Promise<boolean> {
    const res = await this.db.query<{ id: number; text: string }>(
      `SELECT t.id, t.text FROM command_texts t
       WHERE NOT EXISTS (SELECT 1 FROM text_embeddings e WHERE e.text_id = t.id)
       ORDER BY t.last_used_at DESC LIMIT ${BATCH}`,
    )
    if (res.rows.length === 0) return false
    const vectors = await this.embedder.embed(res.rows.map((r) => r.text))
    const ids = res.rows.map((r) => r.id)
    await this.db.query(
      `INSERT INTO text_embeddings (text_id, model, dims, embedding)
       SELECT x.id, $3, $4, x.v::vector FROM unnest($1::bigint[], $2::text[]) AS x(id, v)
       WHERE EXISTS (SELECT 1 FROM command_texts t WHERE t.id = x.id)
       ON CONFLICT (text_id) DO NOTHING`,
      [
        ids,
        vectors.map(toVectorLiteral),
        this.embedder.model,
        Math.trunc(this.embedder.dimensions),
      ],
    )
    this.onStored(ids, vectors)
    return true
  }
}
