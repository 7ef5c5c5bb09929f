import type { PGlite } from '@electric-sql/pglite'
import type { CommandRow } from './rows'
import { SearchIndex } from './search-index'

const PAGE = 4_000
/** Command rows per round trip when building the index. */
const RUN_PAGE = 20_000

interface RunColumns {
  id: number[]
  text_id: number[]
  cwd: (string | null)[]
  exit_code: (number | null)[]
  started_at: number[]
  duration_ms: (number | null)[]
  shell: (string | null)[]
  host: (string | null)[]
  session_id: (string | null)[]
  pty_id: (string | null)[]
  source: string[]
  ai_request_id: (number | null)[]
}

/**
 * Builds the in-memory search index from the database, in one transaction (PGlite runs nothing
 * else meanwhile, so no write can fall between the pages). Rows come back as one JSON document
 * of columns per page: PGlite's row-by-row result parsing costs ~30 us a row, this ~3 us.
 */
export async function loadSearchIndex(db: PGlite): Promise<SearchIndex> {
  const index = new SearchIndex()
  await db.transaction(async (tx) => {
    const texts = await tx.query<{ j: string | null }>(
      `SELECT json_build_object('id', array_agg(id), 'text', array_agg(text))::text AS j
       FROM command_texts`,
    )
    const t = JSON.parse(texts.rows[0]?.j ?? 'null') as {
      id: number[] | null
      text: string[]
    } | null
    const textById = new Map<number, string>()
    t?.id?.forEach((id, i) => textById.set(id, t.text[i]!))
    let after = 0
    for (;;) {
      const res = await tx.query<{ j: string | null }>(
        `SELECT json_build_object(
           'id', array_agg(id ORDER BY id), 'text_id', array_agg(text_id ORDER BY id),
           'cwd', array_agg(cwd ORDER BY id), 'exit_code', array_agg(exit_code ORDER BY id),
           'started_at', array_agg(started_at ORDER BY id),
           'duration_ms', array_agg(duration_ms ORDER BY id), 'shell', array_agg(shell ORDER BY id),
           'host', array_agg(host ORDER BY id), 'session_id', array_agg(session_id ORDER BY id),
           'pty_id', array_agg(pty_id ORDER BY id), 'source', array_agg(source ORDER BY id),
           'ai_request_id', array_agg(ai_request_id ORDER BY id))::text AS j
         FROM (SELECT * FROM commands WHERE id > $1 ORDER BY id LIMIT ${RUN_PAGE}) c`,
        [after],
      )
      const c = JSON.parse(res.rows[0]?.j ?? 'null') as RunColumns | null
      const n = c?.id?.length ?? 0
      if (!c || n === 0) break
      const rows: CommandRow[] = new Array<CommandRow>(n)
      for (let i = 0; i < n; i++) {
        rows[i] = {
          id: c.id[i]!,
          text_id: c.text_id[i]!,
          text: textById.get(c.text_id[i]!) ?? '',
          cwd: c.cwd[i] ?? null,
          exit_code: c.exit_code[i] ?? null,
          started_at: c.started_at[i]!,
          duration_ms: c.duration_ms[i] ?? null,
          shell: c.shell[i] ?? null,
          host: c.host[i] ?? null,
          session_id: c.session_id[i] ?? null,
          pty_id: c.pty_id[i] ?? null,
          source: c.source[i]!,
          ai_request_id: c.ai_request_id[i] ?? null,
        }
      }
      index.addRows(rows)
      if (n < RUN_PAGE) break
      after = c.id[n - 1]!
    }
  })
  return index
}

/**
 * Loads the stored embeddings of one model (the pgvector table is their store of record) into
 * the index. `vector_send` gives pgvector's binary form: int16 dims, int16 unused, then the
 * float4 values, big-endian.
 */
export async function loadEmbeddings(
  db: PGlite,
  index: SearchIndex,
  model: string,
  dims: number,
): Promise<void> {
  let after = 0
  for (;;) {
    // One base64 document per page (see loadSearchIndex on PGlite's per-row cost).
    const res = await db.query<{ ids: string | null; v: string | null; n: number }>(
      `SELECT string_agg(text_id::text, ',' ORDER BY text_id) AS ids,
              string_agg(translate(encode(vector_send(embedding), 'base64'), E'\n', ''), ','
                ORDER BY text_id) AS v, count(*)::int AS n
       FROM (SELECT text_id, embedding FROM text_embeddings
             WHERE model = $1 AND dims = $2 AND text_id > $3 ORDER BY text_id LIMIT ${PAGE}) e`,
      [model, dims, after],
    )
    const row = res.rows[0]
    const n = row?.n ?? 0
    const ids = n ? row!.ids!.split(',').map(Number) : []
    const encoded = n ? row!.v!.split(',') : []
    const vectors: Float32Array[] = encoded.map((b64) => {
      const bytes = Buffer.from(b64, 'base64')
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      const count = view.getInt16(0)
      const v = new Float32Array(count)
      for (let i = 0; i < count; i++) v[i] = view.getFloat32(4 + 4 * i)
      return v
    })
    index.setEmbeddings(model, dims, ids, vectors)
    if (n < PAGE) return
    after = ids[ids.length - 1]!
  }
}
