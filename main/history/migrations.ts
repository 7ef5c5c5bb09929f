import type { PGlite, Transaction } from '@electric-sql/pglite'
import { LIMITS } from './validate'

/**
 * Forward-only schema migrations. Each runs once, in its own transaction, and is recorded in
 * `schema_migrations`; a database created by an older build is brought forward on open. Never edit
 * a migration that has shipped: add a new one.
 */
export interface Migration {
  version: number
  name: string
  up: (tx: Transaction) => Promise<void>
  /** Tables to VACUUM after the migration commits (VACUUM cannot run in a transaction). */
  vacuum?: string[]
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'base tables',
    async up(tx) {
      await tx.exec(`
        CREATE TABLE sessions (
          id text PRIMARY KEY,
          kind text NOT NULL,             -- 'terminal' | 'import'
          started_at bigint NOT NULL,     -- epoch ms
          host text,
          shell text,
          pty_id text,
          label text
        );
        CREATE TABLE command_texts (
          id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          text text NOT NULL UNIQUE
        );
        CREATE TABLE commands (
          id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          text_id bigint NOT NULL REFERENCES command_texts(id),
          cwd text,
          exit_code integer,
          started_at bigint NOT NULL,     -- epoch ms
          duration_ms integer,
          shell text,
          host text,
          session_id text REFERENCES sessions(id) ON DELETE SET NULL,
          pty_id text,
          source text NOT NULL,           -- 'terminal' | 'bash' | 'zsh' | 'fish' | 'atuin'
          import_key text UNIQUE
        );
        CREATE INDEX commands_text_started ON commands (text_id, started_at DESC);
        CREATE INDEX commands_started ON commands (started_at);
        CREATE TABLE ai_requests (
          id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          created_at bigint NOT NULL,
          request text NOT NULL,
          context_summary text,
          model text,
          backend text,
          timings jsonb,
          proposed_command text,
          risk text,
          reasons jsonb,
          decision text,                  -- ran | edited | copied | cancelled | blocked
          final_command text,
          decided_at bigint,
          pty_id text,
          session_id text REFERENCES sessions(id) ON DELETE SET NULL,
          command_id bigint REFERENCES commands(id) ON DELETE SET NULL
        );
        CREATE INDEX ai_requests_command ON ai_requests (command_id);
        CREATE INDEX ai_requests_created ON ai_requests (created_at);
      `)
    },
  },
  {
    version: 2,
    name: 'search: per-text aggregates, tsvector, trigram, filter indexes',
    async up(tx) {
      // Search runs over the distinct texts (history repeats itself a lot), ranked by aggregates
      // kept here, and only joins the command rows when a filter needs them.
      await tx.exec(`
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
        ALTER TABLE command_texts
          ADD COLUMN uses integer NOT NULL DEFAULT 0,
          ADD COLUMN ok_uses integer NOT NULL DEFAULT 0,
          ADD COLUMN fail_uses integer NOT NULL DEFAULT 0,
          ADD COLUMN last_used_at bigint NOT NULL DEFAULT 0,
          ADD COLUMN tsv tsvector GENERATED ALWAYS AS
            (to_tsvector('simple', regexp_replace(lower(text), '[^[:alnum:]_]+', ' ', 'g'))) STORED;
        UPDATE command_texts t SET
          uses = a.uses, ok_uses = a.ok_uses, fail_uses = a.fail_uses, last_used_at = a.last_used_at
        FROM (SELECT text_id, count(*)::int AS uses,
                     count(*) FILTER (WHERE exit_code = 0)::int AS ok_uses,
                     count(*) FILTER (WHERE exit_code <> 0)::int AS fail_uses,
                     max(started_at) AS last_used_at
              FROM commands GROUP BY text_id) a
        WHERE a.text_id = t.id;
        CREATE INDEX command_texts_tsv ON command_texts USING gin (tsv);
        CREATE INDEX command_texts_trgm ON command_texts USING gin (text gin_trgm_ops);
        ALTER TABLE commands ADD COLUMN ai_request_id bigint;
        UPDATE commands c SET ai_request_id = a.id FROM ai_requests a WHERE a.command_id = c.id;
        CREATE INDEX commands_cwd ON commands (cwd text_pattern_ops);
        CREATE INDEX commands_session ON commands (session_id);
      `)
    },
  },
  {
    version: 3,
    name: 'embeddings (pgvector), derived data',
    async up(tx) {
      // Dimensions depend on the embedding model, so the column is untyped and the HNSW index is
      // built per dimension count on a cast expression (see embeddings.ts).
      await tx.exec(`
        CREATE EXTENSION IF NOT EXISTS vector;
        CREATE TABLE text_embeddings (
          text_id bigint PRIMARY KEY REFERENCES command_texts(id) ON DELETE CASCADE,
          model text NOT NULL,
          dims integer NOT NULL,
          embedding vector NOT NULL
        );
      `)
    },
  },
  {
    version: 4,
    name: 'drop HNSW indexes (semantic search scans the embeddings in memory)',
    async up(tx) {
      // Older builds created one per dimension count; nothing reads them any more and keeping
      // them up to date was the bulk of the embedding cost.
      await tx.exec(`
        DO $$ DECLARE r record; BEGIN
          FOR r IN SELECT indexname FROM pg_indexes
                   WHERE tablename = 'text_embeddings' AND indexname LIKE 'text\\_embeddings\\_hnsw\\_%'
          LOOP EXECUTE format('DROP INDEX %I', r.indexname); END LOOP;
        END $$;`)
    },
  },
  {
    version: 5,
    name: 'compact import keys, constraints, HOT-friendly aggregates, fewer indexes',
    async up(tx) {
      const short = (col: string) =>
        `CHECK (${col} IS NULL OR length(${col}) <= ${LIMITS.shortChars}) NOT VALID`
      // Import keys become a 64-bit hash (8 bytes a row, a bigint index) instead of ~25 bytes of
      // text plus a text index: the first 8 bytes of SHA-256, as `importHash` computes them.
      // The constraints are NOT VALID: rows written by older builds are kept as they are (reads
      // tolerate them); every new row must satisfy them. fillfactor leaves room on each page so
      // that updating a text's counters is a HOT update that touches no index.
      // commands_started and the trigram index served only the SQL search path (SEARCH.md), at
      // ~20% of the database's size; that path still works without them, by scanning.
      await tx.exec(`
        ALTER TABLE commands ADD COLUMN import_hash bigint;
        UPDATE commands SET import_hash =
          ('x' || substr(encode(sha256(convert_to(import_key, 'UTF8')), 'hex'), 1, 16))::bit(64)::bigint
          WHERE import_key IS NOT NULL;
        ALTER TABLE commands DROP COLUMN import_key;
        CREATE UNIQUE INDEX commands_import_hash ON commands (import_hash);
        DROP INDEX IF EXISTS commands_started;
        DROP INDEX IF EXISTS command_texts_trgm;
        ALTER TABLE command_texts SET (fillfactor = 80);
        ALTER TABLE command_texts ADD CONSTRAINT command_texts_text_valid
          CHECK (length(text) BETWEEN 1 AND ${LIMITS.commandChars}) NOT VALID;
        ALTER TABLE commands
          ADD CONSTRAINT commands_started_valid
            CHECK (started_at BETWEEN 0 AND ${LIMITS.maxTime}) NOT VALID,
          ADD CONSTRAINT commands_duration_valid
            CHECK (duration_ms IS NULL OR duration_ms >= 0) NOT VALID,
          ADD CONSTRAINT commands_cwd_valid
            CHECK (cwd IS NULL OR length(cwd) <= ${LIMITS.cwdChars}) NOT VALID,
          ADD CONSTRAINT commands_shell_valid ${short('shell')},
          ADD CONSTRAINT commands_host_valid ${short('host')},
          ADD CONSTRAINT commands_session_valid ${short('session_id')},
          ADD CONSTRAINT commands_pty_valid ${short('pty_id')},
          ADD CONSTRAINT commands_source_valid ${short('source')};
      `)
    },
    vacuum: ['commands', 'command_texts'],
  },
  {
    version: 6,
    name: 'agent events (what coding agents asked about or ran; main/history/agent-events.ts)',
    async up(tx) {
      await tx.exec(`
        CREATE TABLE agent_events (
          id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          created_at bigint NOT NULL,
          started_at bigint NOT NULL,     -- epoch ms
          client text NOT NULL,           -- the agent's name (MCP clientInfo, hook)
          client_version text,
          via text NOT NULL,              -- mcp | hook | cli
          tool text NOT NULL,             -- run_command, check_command, PreToolUse, ...
          command text NOT NULL,
          cwd text,
          shell text,
          risk text NOT NULL,
          action text NOT NULL,           -- allow | confirm | block
          reasons jsonb NOT NULL,
          policy_rule text,
          decision text NOT NULL,         -- contract/agent.ts AGENT_DECISIONS
          note text,
          agent_session text,
          exit_code integer,
          duration_ms integer,
          command_id bigint REFERENCES commands(id) ON DELETE SET NULL
        );
        CREATE INDEX agent_events_client ON agent_events (client, id DESC);
        CREATE INDEX agent_events_started ON agent_events (started_at);
      `)
    },
  },
  {
    version: 7,
    name: 'smaller indexes: words of a text as an expression, commands by text only, no cwd index',
    async up(tx) {
      // PostgreSQL recomputes stored generated columns on every UPDATE: bumping a text's
      // counters re-parsed its words each time (most of an import's counter updates). An
      // expression index is computed only when the text itself changes, and takes no room in
      // the table. The (text_id, started_at) index becomes (text_id): history repeats itself, so
      // that one deduplicates to a seventh of the size (the SQL search path sorts each hit's runs
      // to find the latest instead of reading it off the index). The cwd index served only that
      // path's directory filter, which a scan answers as well. Together they were 12% of the
      // database. A tenth of each texts page stays free so that bumping counters stays HOT.
      await tx.exec(`
        ALTER TABLE command_texts DROP COLUMN tsv;
        DROP INDEX IF EXISTS commands_cwd;
        DROP INDEX IF EXISTS commands_text_started;
        CREATE INDEX commands_text ON commands (text_id);
        ALTER TABLE command_texts SET (fillfactor = 90);
        CREATE INDEX command_texts_words ON command_texts USING gin ((${TEXT_WORDS_SQL('text')}));
      `)
    },
  },
]

/**
 * The words of a command text as PostgreSQL's full-text search sees them (`col`: the text
 * column, e.g. `t.text`). The SQL search must use exactly this expression for the index to serve.
 */
export function TEXT_WORDS_SQL(col: string): string {
  return `to_tsvector('simple'::regconfig, regexp_replace(lower(${col}), '[^[:alnum:]_]+', ' ', 'g'))`
}

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version

/** Applies every migration newer than the database, each in its own transaction. */
export async function migrate(
  db: PGlite,
  options: { target?: number } = {},
): Promise<{ from: number; to: number }> {
  await db.exec(`
    CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at bigint NOT NULL
    )`)
  const from = await currentVersion(db)
  if (from > LATEST_VERSION) {
    throw new NewerSchemaError(from)
  }
  if (from === 0 && (await hasTable(db, 'commands'))) {
    // The tables exist but the record of migrations is gone: its table file was damaged.
    throw new LostMigrationsError()
  }
  const target = options.target ?? LATEST_VERSION
  let to = from
  for (const migration of MIGRATIONS) {
    if (migration.version <= from || migration.version > target) continue
    await db.transaction(async (tx) => {
      await migration.up(tx)
      await tx.query(
        'INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)',
        [migration.version, migration.name, Date.now()],
      )
    })
    // Only a database that had rows needs its space back (a new one is empty).
    if (from > 0) for (const table of migration.vacuum ?? []) await db.exec(`VACUUM ${table}`)
    to = migration.version
  }
  return { from, to }
}

export async function currentVersion(db: PGlite): Promise<number> {
  const res = await db.query<{ v: number | null }>(
    'SELECT max(version) AS v FROM schema_migrations',
  )
  return res.rows[0]?.v ?? 0
}

/** Pending migrations, for taking a backup before they run. */
export function pendingMigrations(from: number): number {
  return MIGRATIONS.filter((m) => m.version > from).length
}

export class NewerSchemaError extends Error {
  constructor(readonly version: number) {
    super(
      `The history database is at schema version ${version}, newer than this build knows (${LATEST_VERSION}). Update cmdai.`,
    )
  }
}

export class LostMigrationsError extends Error {
  constructor() {
    super('schema_migrations is empty although the tables exist')
  }
}

async function hasTable(db: PGlite, name: string): Promise<boolean> {
  const res = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND tablename = $1`,
    [name],
  )
  return (res.rows[0]?.n ?? 0) > 0
}
