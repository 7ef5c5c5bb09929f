import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'

/**
 * The little of a SQL driver the server needs, so embedded PGlite and node-postgres run the same
 * statements. Parameters use `$1` placeholders; `bytea` values go in as Uint8Array and come back
 * as Uint8Array (a Buffer from node-postgres); `bigint` columns are cast in the SQL where read.
 */
export interface SqlClient {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>
}

export interface SqlDatabase extends SqlClient {
  readonly kind: 'pglite' | 'postgres'
  /** Runs `fn` in one transaction (committed when it resolves, rolled back when it throws). */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>, options?: { readOnly?: boolean }): Promise<T>
  close(): Promise<void>
}

/** Embedded PostgreSQL in a data directory (one process owns it: see `data-dir.ts`). */
export async function openPglite(dir: string): Promise<SqlDatabase> {
  const db = await PGlite.create({ dataDir: dir })
  return {
    kind: 'pglite',
    query: async <T>(sql: string, params?: unknown[]) => db.query<T>(sql, params),
    transaction: <T>(fn: (tx: SqlClient) => Promise<T>) =>
      db.transaction(async (tx) =>
        fn({ query: async <R>(s: string, p?: unknown[]) => tx.query<R>(s, p) }),
      ),
    close: () => db.close(),
  }
}

/** PostgreSQL through a node-postgres pool (several server instances may share it). */
export async function openPostgres(
  url: string,
  options: { max?: number } = {},
): Promise<SqlDatabase> {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10 })
  // An idle client's error (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => {})
  // Fail now, with the driver's message, when the database cannot be reached.
  const probe = await pool.connect()
  probe.release()
  return {
    kind: 'postgres',
    query: async <T>(sql: string, params?: unknown[]) => {
      const r = await pool.query(sql, params as unknown[])
      return { rows: r.rows as T[] }
    },
    transaction: async <T>(fn: (tx: SqlClient) => Promise<T>, opts?: { readOnly?: boolean }) => {
      const client = await pool.connect()
      try {
        await client.query(
          opts?.readOnly ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN',
        )
        const result = await fn({
          query: async <R>(s: string, p?: unknown[]) => {
            const r = await client.query(s, p as unknown[])
            return { rows: r.rows as R[] }
          },
        })
        await client.query('COMMIT')
        return result
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {})
        throw err
      } finally {
        client.release()
      }
    },
    close: () => pool.end(),
  }
}
