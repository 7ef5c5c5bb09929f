// The embedded database's own thread: PGlite (PostgreSQL compiled to WebAssembly) runs here, so
// its CPU time (parsing, WAL, file writes) does not hold up the server's event loop. Plain
// JavaScript so that it loads in a worker without a TypeScript loader. Protocol (see
// sql-client.ts): { id, op: 'query', sql, params } -> { id, rows } | { id, error }; op 'close'.
import { parentPort, workerData } from 'node:worker_threads'
import { PGlite } from '@electric-sql/pglite'

const port = parentPort
let db
try {
  db = await PGlite.create({ dataDir: workerData.dataDir })
  port.postMessage({ id: 0, ready: true })
} catch (err) {
  port.postMessage({ id: 0, error: { message: err instanceof Error ? err.message : String(err) } })
}

port.on('message', async (msg) => {
  try {
    if (msg.op === 'close') {
      await db?.close()
      port.postMessage({ id: msg.id, rows: [] })
      port.close()
      return
    }
    const result = await db.query(msg.sql, msg.params ?? [])
    port.postMessage({ id: msg.id, rows: result.rows })
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err))
    port.postMessage({ id: msg.id, error: { message: e.message, code: e.code } })
  }
})
