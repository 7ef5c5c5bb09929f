import { Worker } from 'node:worker_threads'
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

/**
 * Embedded PostgreSQL in a data directory (one process owns it: see `data-dir.ts`), run in a
 * worker thread (`pglite-worker.mjs`) so that its CPU time does not stall the server's event
 * loop. PGlite is one connection: calls are serialised here, and a transaction holds the line
 * (BEGIN ... COMMIT on that connection) until it ends, as PGlite's own `transaction` does.
 */
export async function openPglite(dir: string): Promise<SqlDatabase> {
  const worker = new Worker(new URL('./pglite-worker.mjs', import.meta.url), {
    workerData: { dataDir: dir },
  })
  let nextId = 1
  let dead: Error | null = null
  const pending = new Map<
    number,
    { resolve: (rows: unknown[]) => void; reject: (err: Error) => void }
  >()
  const ready = new Promise<void>((resolve, reject) => {
    pending.set(0, { resolve: () => resolve(), reject })
  })
  const fail = (err: Error) => {
    dead ??= err
    for (const p of pending.values()) p.reject(err)
    pending.clear()
  }
  worker.on(
    'message',
    (msg: { id: number; rows?: unknown[]; error?: { message: string; code?: string } }) => {
      const p = pending.get(msg.id)
      if (!p) return
      pending.delete(msg.id)
      if (pending.size === 0) worker.unref()
      if (msg.error) p.reject(Object.assign(new Error(msg.error.message), { code: msg.error.code }))
      else p.resolve(msg.rows ?? [])
    },
  )
  worker.on('error', (err) => fail(err))
  worker.on('exit', (code) => fail(new Error(`the embedded database stopped (exit ${code})`)))
  const call = (op: 'query' | 'close', sql?: string, params?: unknown[]) =>
    new Promise<unknown[]>((resolve, reject) => {
      if (dead) return reject(dead)
      const id = nextId++
      pending.set(id, { resolve, reject })
      // Keep the process alive while a call is out (an idle database must not).
      worker.ref()
      worker.postMessage({ id, op, sql, params })
    })
  await ready.catch(async (err: Error) => {
    await worker.terminate()
    throw new Error(`Cannot open the embedded database in ${dir}: ${err.message}`)
  })
  worker.unref()

  let line: Promise<unknown> = Promise.resolve()
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = line.then(fn, fn)
    line = run.catch(() => {})
    return run
  }
  const direct: SqlClient = {
    query: async <T>(sql: string, params?: unknown[]) => ({
      rows: (await call('query', sql, params)) as T[],
    }),
  }
  return {
    kind: 'pglite',
    query: (sql, params) => serial(() => direct.query(sql, params)),
    transaction: (fn) =>
      serial(async () => {
        await direct.query('BEGIN')
        try {
          const result = await fn(direct)
          await direct.query('COMMIT')
          return result
        } catch (err) {
          await direct.query('ROLLBACK').catch(() => {})
          throw err
        }
      }),
    close: async () => {
      await serial(() => call('close')).catch(() => {})
      await worker.terminate()
    },
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
