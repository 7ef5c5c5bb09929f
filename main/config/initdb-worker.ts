import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

/**
 * Creating a PGlite database (initdb: PostgreSQL's bootstrap, compiled to WebAssembly) takes
 * 5-8 s of CPU on this class of machine, and PGlite runs on the thread that opens it. On a first
 * start that thread is the app's main thread, which also relays every shell's output: the
 * terminal froze until the database existed. So a new database is created in a worker thread,
 * closed there, and then opened where it is used (an open of an existing database is ~1 s).
 *
 * The worker is plain CommonJS evaluated from a string, so it loads the same way from the
 * sources (tsx), the CLI bundle and the Electron build; PGlite is resolved here, next to the
 * code that uses it, and handed over as a path.
 */
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const { PGlite } = require(workerData.entry)
PGlite.create({
  dataDir: workerData.dataDir,
  ...(workerData.initDbStartParams ? { initDbStartParams: workerData.initDbStartParams } : {}),
})
  .then((db) => db.close())
  .then(
    () => parentPort.postMessage({ ok: true }),
    (err) => parentPort.postMessage({ ok: false, message: String((err && err.message) || err) }),
  )
`

export interface InitdbOptions {
  /** initdb's own parameters (e.g. the WAL segment size). */
  initDbStartParams?: string[]
  /** Give up after this long (the caller then reports it; nothing is left half-claimed). */
  timeoutMs?: number
}

/** Creates a new, empty PGlite database in `dataDir` on a worker thread. */
export function createDatabaseInWorker(
  dataDir: string,
  options: InitdbOptions = {},
): Promise<void> {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite')
  return new Promise<void>((resolve, reject) => {
    const worker = new Worker(SOURCE, {
      eval: true,
      workerData: { entry, dataDir, initDbStartParams: options.initDbStartParams ?? null },
    })
    let settled = false
    const finish = (err: Error | null) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      void worker.terminate()
      if (err) reject(err)
      else resolve()
    }
    const timer = setTimeout(
      () => finish(new Error(`creating the database in ${dataDir} took too long`)),
      options.timeoutMs ?? 300_000,
    )
    worker.on('message', (msg: { ok: boolean; message?: string }) =>
      finish(msg.ok ? null : new Error(msg.message ?? 'the database could not be created')),
    )
    worker.on('error', (err) => finish(err))
    worker.on('exit', (code) =>
      finish(new Error(`the database creation stopped before it finished (exit ${code})`)),
    )
  })
}
