import type { SqlClient } from './sql-client'
import type { Storage } from './storage'

/**
 * Tables of a server module (the console, sign-in and elevation) versioned apart from the
 * server's own schema, in a `<name>_schema` table: each module's migrations run once per
 * storage, in order, each in a transaction; two instances starting together over one Postgres
 * take turns (the second finds the first's work done); tables newer than this build are refused.
 */
export type Migration = (tx: SqlClient, kind: Storage['kind']) => Promise<void>

export function moduleSchema(
  name: string,
  what: string,
  migrations: readonly Migration[],
): (storage: Storage) => Promise<void> {
  const table = `${name}_schema`
  const done = new WeakMap<Storage, Promise<void>>()
  const version = async (db: SqlClient) =>
    (await db.query<{ v: number | null }>(`SELECT max(version)::int AS v FROM ${table}`)).rows[0]
      ?.v ?? 0
  const migrate = async (storage: Storage) => {
    const db = storage.sql
    await db.query(
      `CREATE TABLE IF NOT EXISTS ${table} (version integer NOT NULL, applied_at bigint NOT NULL)`,
    )
    const current = await version(db)
    if (current > migrations.length)
      throw new Error(
        `${what} (version ${current}) are newer than this server supports ` +
          `(${migrations.length}): run a newer cmdai-sync`,
      )
    for (let v = current; v < migrations.length; v++)
      await db.transaction(async (tx) => {
        if (storage.kind === 'postgres') await tx.query(`LOCK TABLE ${table} IN EXCLUSIVE MODE`)
        if ((await version(tx)) > v) return
        await migrations[v]!(tx, storage.kind)
        await tx.query(`INSERT INTO ${table} (version, applied_at) VALUES ($1, $2)`, [
          v + 1,
          Date.now(),
        ])
      })
  }
  return (storage) => {
    let p = done.get(storage)
    if (!p) {
      p = migrate(storage)
      done.set(storage, p)
      p.catch(() => done.delete(storage))
    }
    return p
  }
}

/** Runs a script of statements separated by `;` (no `;` inside them). */
export async function execStatements(db: SqlClient, sql: string): Promise<void> {
  for (const statement of sql
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean))
    await db.query(statement)
}
