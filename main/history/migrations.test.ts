import { PGlite } from '@electric-sql/pglite'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { LATEST_VERSION, currentVersion } from './migrations'
import { redactForHistory } from './redact'
import { HistoryStore } from './store'

const root = mkdtempSync(join(tmpdir(), 'cmdai-history-migrate-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

describe('migrations', () => {
  it('brings a version-1 database forward with its data intact', async () => {
    const dir = join(root, 'history')
    // A database as the first schema version left it, with rows written by that version.
    const old = await HistoryStore.open({ dir, redact: redactForHistory, schemaVersion: 1 })
    expect(old.schemaVersion).toBe(1)
    await old.db.exec(`
      INSERT INTO sessions (id, kind, started_at) VALUES ('s', 'terminal', 1);
      INSERT INTO command_texts (text) VALUES ('make test'), ('git push');
      INSERT INTO commands (text_id, cwd, exit_code, started_at, source, session_id) VALUES
        (1, '/p', 0, 1000, 'terminal', 's'), (1, '/p', 2, 2000, 'terminal', 's'),
        (2, '/p', 0, 3000, 'terminal', 's');
      INSERT INTO ai_requests (created_at, request, proposed_command, decision, command_id)
        VALUES (2500, 'push it', 'git push', 'ran', 3);`)
    await old.close()

    const store = await HistoryStore.open({ dir, redact: redactForHistory })
    try {
      expect(store.schemaVersion).toBe(LATEST_VERSION)
      const versions = await store.db.query<{ version: number }>(
        'SELECT version FROM schema_migrations ORDER BY version',
      )
      expect(versions.rows.map((r) => r.version)).toEqual(
        Array.from({ length: LATEST_VERSION }, (_, i) => i + 1),
      )
      // Aggregates were backfilled, the AI link copied, search works on old rows.
      const hit = (await store.search({ query: 'make', mode: 'text', limit: 5 })).hits[0]!
      expect(hit).toMatchObject({ command: 'make test', uses: 2, failures: 1 })
      expect(hit.last.startedAt).toBe(2000)
      const push = (await store.search({ query: 'push', mode: 'substring', limit: 5 })).hits[0]!
      expect(push.last.aiRequestId).toBe(1)
      expect((await store.stats()).totalCommands).toBe(3)
    } finally {
      await store.close()
    }
    // Opening again runs nothing and changes nothing.
    const again = await HistoryStore.open({ dir, redact: redactForHistory })
    expect(again.schemaVersion).toBe(LATEST_VERSION)
    expect((await again.stats()).totalCommands).toBe(3)
    await again.close()
  }, 60_000)

  it('version 4 drops the HNSW indexes older builds made; embeddings stay', async () => {
    const dir = join(root, 'v3')
    const old = await HistoryStore.open({ dir, redact: redactForHistory, schemaVersion: 3 })
    await old.db.exec(`
      INSERT INTO command_texts (text, uses, last_used_at) VALUES ('make test', 1, 1000);
      INSERT INTO commands (text_id, exit_code, started_at, source) VALUES (1, 0, 1000, 'terminal');
      INSERT INTO text_embeddings (text_id, model, dims, embedding)
        VALUES (1, 'hashed-trigram-3', 3, '[1,0,0]');
      CREATE INDEX text_embeddings_hnsw_3 ON text_embeddings
        USING hnsw ((embedding::vector(3)) vector_cosine_ops) WHERE dims = 3;`)
    await old.close()
    const store = await HistoryStore.open({ dir, redact: redactForHistory })
    try {
      const indexes = await store.db.query<{ indexname: string }>(
        `SELECT indexname FROM pg_indexes WHERE tablename = 'text_embeddings'`,
      )
      expect(indexes.rows.map((r) => r.indexname)).toEqual(['text_embeddings_pkey'])
      const kept = await store.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM text_embeddings',
      )
      expect(kept.rows[0]!.n).toBe(1)
      // The index built at open serves the old rows.
      const hits = await store.search({ query: 'make', mode: 'text', limit: 5 })
      expect(hits.hits.map((h) => h.command)).toEqual(['make test'])
    } finally {
      await store.close()
    }
  }, 60_000)

  it('refuses a database from a newer build', async () => {
    const dir = join(root, 'newer')
    const store = await HistoryStore.open({ dir, redact: redactForHistory })
    await store.db.query(
      "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)",
    )
    await store.close()
    await expect(HistoryStore.open({ dir, redact: redactForHistory })).rejects.toThrow(
      /newer than this build/,
    )
    // The failed open released its lock and the database.
    const db = await PGlite.create({ dataDir: dir })
    expect(await currentVersion(db)).toBe(999)
    await db.close()
  }, 60_000)
})
