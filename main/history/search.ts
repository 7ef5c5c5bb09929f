import type { PGlite } from '@electric-sql/pglite'
import { CmdaiError } from '../../contract/errors'
import type {
  HistoryFilter,
  HistorySearchHit,
  HistorySearchResult,
  SearchMode,
} from '../../contract/history'
import { toVectorLiteral, type Embedder } from './embedder'
import { escapeLike, filterSql, isEmptyFilter } from './filters'
import { TEXT_WORDS_SQL } from './migrations'
import { COMMAND_COLUMNS, toCommand, type CommandRow } from './rows'

export interface SearchParams {
  query: string
  mode: SearchMode
  filter?: HistoryFilter
  limit: number
}

const DAY_MS = 86_400_000

/**
 * Frecency: frequent (log of uses), recent (decays over about a week) and successful commands
 * first. `u`, `ok`, `fail`, `last` are SQL expressions; `$now` is bound by the caller.
 */
function frecency(u: string, ok: string, fail: string, last: string, now: string): string {
  return `(ln(1 + ${u}) + 3.0 / (1 + (${now} - ${last}) / ${7 * DAY_MS}.0)
    + 1.5 * (${ok} - ${fail})::float8 / greatest(${u}, 1))`
}

/** The same frecency in JS (the in-memory index ranks with it). */
export function frecencyScore(u: number, ok: number, fail: number, last: number, now: number) {
  return (
    Math.log(1 + u) + 3.0 / (1 + (now - last) / (7 * DAY_MS)) + (1.5 * (ok - fail)) / Math.max(u, 1)
  )
}

/** Words of a query as the tsvector sees them (lower case, split on punctuation). */
export function queryWords(query: string): string[] {
  return query
    .toLowerCase()
    .split(/[^\p{L}\p{N}_]+/u)
    .filter(Boolean)
    .slice(0, 16)
}

/** AND of the words; the last one is a prefix so that search works while typing. */
export function toTsQuery(words: string[]): string {
  return words.map((w, i) => (i === words.length - 1 ? `'${w}':*` : `'${w}'`)).join(' & ')
}

interface Matcher {
  /** Condition on `t` (command_texts); references params from `params`. */
  where: string
  /** Extra ranking term (higher is better), or '0'. */
  rank: string
  params: unknown[]
  /** For semantic search: a pre-selected candidate set (CTE body) instead of `where`. */
  candidates?: string
}

/**
 * Search done entirely in SQL: tsvector (full text, an expression index), ILIKE over the texts
 * (substring), pg_trgm `<%` (fuzzy), pgvector (semantic). The app searches with the in-memory
 * index instead (search-index.ts; `HistoryStore.search`), which answers the same for full text,
 * substring, semantic and every filter (search-index.test.ts checks it) in a fraction of the
 * time; this path is `HistoryStore.searchSql`, the reference the index is tested against.
 */
export async function searchHistory(
  db: PGlite,
  params: SearchParams,
  embedder: Embedder | null,
  now = Date.now(),
): Promise<HistorySearchResult> {
  const started = performance.now()
  const query = params.query.trim()
  const matcher = await buildMatcher(params.mode, query, embedder)
  if (!matcher) return { mode: params.mode, hits: [], tookMs: performance.now() - started }

  const values: unknown[] = [now, params.limit, ...matcher.params]
  const shift = (sql: string) => sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + 2}`)
  const where = shift(matcher.where)
  const rank = shift(matcher.rank)
  const filtered = !isEmptyFilter(params.filter)
  const filter = filterSql(params.filter, values.length)
  values.push(...filter.params)

  // The matchers run over the distinct texts (small, indexed); command rows are only read for
  // filters and for each hit's latest run.
  const source = matcher.candidates
    ? `(${shift(matcher.candidates)}) t`
    : `(SELECT t.id, t.text, t.uses, t.ok_uses, t.fail_uses, t.last_used_at, ${rank} AS match
        FROM command_texts t WHERE ${where}) t`
  // With a filter, texts qualify when one of their runs matches it (an EXISTS probe that stops
  // at the first such run); they are ranked by their overall frecency, and only the hits get
  // their counts within the filter.
  const ranked = `SELECT t.id, t.text, t.match, t.uses, t.ok_uses, t.fail_uses, t.last_used_at
     FROM ${source} WHERE t.uses > 0${
       filtered
         ? ` AND EXISTS (SELECT 1 FROM commands c WHERE c.text_id = t.id AND ${filter.sql})`
         : ''
     }`
  const counts = filtered
    ? `JOIN LATERAL (SELECT count(*)::int AS uses,
         count(*) FILTER (WHERE c.exit_code <> 0)::int AS fail_uses
         FROM commands c WHERE c.text_id = h.id AND ${filter.sql}) n ON TRUE`
    : 'JOIN LATERAL (SELECT h.uses, h.fail_uses) n ON TRUE'
  const sql = `
    WITH hits AS (
      SELECT r.*, r.match + ${frecency('r.uses', 'r.ok_uses', 'r.fail_uses', 'r.last_used_at', '$1')} AS score
      FROM (${ranked}) r
      ORDER BY score DESC, r.id DESC
      LIMIT $2
    )
    SELECT n.uses AS hit_uses, n.fail_uses AS hit_failures, h.score, ${COMMAND_COLUMNS}
    FROM hits h
    ${counts}
    CROSS JOIN LATERAL (
      SELECT * FROM commands c WHERE c.text_id = h.id AND ${filter.sql}
      ORDER BY c.started_at DESC, c.id DESC LIMIT 1
    ) c
    JOIN command_texts t ON t.id = h.id
    ORDER BY h.score DESC, h.id DESC`
  const res = await db.query<
    CommandRow & { hit_uses: number; hit_failures: number; score: number }
  >(sql, values)
  const hits: HistorySearchHit[] = res.rows.map((row) => ({
    command: row.text,
    last: toCommand(row),
    uses: row.hit_uses,
    failures: row.hit_failures,
    score: row.score,
  }))
  return { mode: params.mode, hits, tookMs: performance.now() - started }
}

async function buildMatcher(
  mode: SearchMode,
  query: string,
  embedder: Embedder | null,
): Promise<Matcher | null> {
  if (!query) return { where: 'TRUE', rank: '0', params: [] }
  switch (mode) {
    case 'text': {
      const words = queryWords(query)
      if (!words.length) return null
      return {
        where: `${TEXT_WORDS_SQL('t.text')} @@ to_tsquery('simple', $1)`,
        rank: '0',
        params: [toTsQuery(words)],
      }
    }
    case 'substring':
      return { where: `t.text ILIKE $1`, rank: '0', params: [`%${escapeLike(query)}%`] }
    case 'fuzzy':
      // `<%` is word_similarity above pg_trgm.word_similarity_threshold and uses the GIN trigram
      // index; similarity is only computed for the candidates the index returns.
      return {
        where: `$1 <% t.text`,
        rank: `4 * word_similarity($1, t.text)`,
        params: [query],
      }
    case 'semantic': {
      if (!embedder) {
        throw new CmdaiError(
          'unavailable',
          'Semantic search needs an embedding model: install one from the model catalog',
        )
      }
      const [vector] = await embedder.embed([query])
      if (!vector) return null
      const dims = Math.trunc(embedder.dimensions)
      // The 100 nearest embeddings (an exact scan: no HNSW index since schema version 4), then
      // ranked mostly by similarity, as the in-memory index does.
      return {
        where: 'TRUE',
        rank: '0',
        params: [toVectorLiteral(vector), embedder.model],
        candidates: `SELECT t.id, t.text, t.uses, t.ok_uses, t.fail_uses, t.last_used_at,
            6 * (1 - nn.dist) AS match
          FROM (SELECT e.text_id, (e.embedding::vector(${dims})) <=> $1::vector(${dims}) AS dist
                FROM text_embeddings e WHERE e.dims = ${dims} AND e.model = $2
                ORDER BY (e.embedding::vector(${dims})) <=> $1::vector(${dims}) LIMIT 100) nn
          JOIN command_texts t ON t.id = nn.text_id`,
      }
    }
  }
}
