import type { SqlClient, SqlDatabase } from './sql-client'

/**
 * The server's tables, the same SQL for PGlite and PostgreSQL. Times are epoch milliseconds in
 * `bigint` columns (no time zone conversions between drivers). Each migration runs once, in order,
 * inside a transaction; a database from a newer server version is refused.
 */
const MIGRATIONS: string[] = [
  `
  CREATE TABLE teams (
    name text PRIMARY KEY,
    created_at bigint NOT NULL,
    retention_days integer
  );
  CREATE TABLE members (
    team text NOT NULL REFERENCES teams(name) ON DELETE CASCADE,
    user_id text NOT NULL,
    role text NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    PRIMARY KEY (team, user_id)
  );
  CREATE TABLE tokens (
    jti text PRIMARY KEY,
    team text NOT NULL,
    user_id text NOT NULL,
    role text NOT NULL,
    label text,
    kid text NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    revoked_at bigint
  );
  CREATE INDEX tokens_team_user ON tokens (team, user_id);
  CREATE TABLE signing_keys (
    kid text PRIMARY KEY,
    purpose text NOT NULL,
    public_jwk text NOT NULL,
    private_jwk text NOT NULL,
    created_at bigint NOT NULL
  );
  CREATE TABLE doc_updates (
    id bigserial PRIMARY KEY,
    room text NOT NULL,
    data bytea NOT NULL,
    created_at bigint NOT NULL
  );
  CREATE INDEX doc_updates_room ON doc_updates (room, id);
  CREATE TABLE client_events (
    team text NOT NULL,
    id text NOT NULL,
    user_id text NOT NULL,
    kind text NOT NULL,
    ts bigint NOT NULL,
    received_at bigint NOT NULL,
    event text NOT NULL,
    PRIMARY KEY (team, id)
  );
  CREATE TABLE audit_records (
    team text NOT NULL,
    seq bigint NOT NULL,
    ts text NOT NULL,
    line text NOT NULL,
    PRIMARY KEY (team, seq)
  );
  CREATE TABLE audit_heads (
    team text PRIMARY KEY,
    seq bigint NOT NULL,
    hash text NOT NULL
  );
  CREATE TABLE audit_checkpoints (
    team text NOT NULL,
    seq bigint NOT NULL,
    line text NOT NULL,
    PRIMARY KEY (team, seq)
  );
  `,
]

export const SCHEMA_VERSION = MIGRATIONS.length

export async function migrate(db: SqlDatabase): Promise<void> {
  await db.query(
    `CREATE TABLE IF NOT EXISTS sync_schema (version integer NOT NULL, applied_at bigint NOT NULL)`,
  )
  const current = await schemaVersion(db)
  if (current > SCHEMA_VERSION)
    throw new Error(
      `The database schema (version ${current}) is newer than this server supports ` +
        `(${SCHEMA_VERSION}): run a newer cmdai-sync`,
    )
  for (let v = current; v < SCHEMA_VERSION; v++) {
    await db.transaction(async (tx) => {
      // Two instances starting together: the second waits here and then sees the first's work.
      if (db.kind === 'postgres') await tx.query('LOCK TABLE sync_schema IN EXCLUSIVE MODE')
      if ((await schemaVersion(tx)) > v) return
      for (const statement of MIGRATIONS[v]!.split(';')
        .map((s) => s.trim())
        .filter(Boolean))
        await tx.query(statement)
      await tx.query('INSERT INTO sync_schema (version, applied_at) VALUES ($1, $2)', [
        v + 1,
        Date.now(),
      ])
    })
  }
}

async function schemaVersion(db: SqlClient): Promise<number> {
  const r = await db.query<{ v: number | null }>('SELECT max(version)::int AS v FROM sync_schema')
  return r.rows[0]?.v ?? 0
}
