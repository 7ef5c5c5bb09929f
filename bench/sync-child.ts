/**
 * A server process for `bench/sync.ts`: either cmdai's (`runServer`, embedded storage in a temp
 * dir, exactly what `cmdai-sync start --data DIR` runs) or the stock `@y/websocket-server` 0.1.1
 * (yjs 13, in memory). It reports its port and answers memory questions over IPC, so the clients
 * (in the parent) never share a process with the server they measure.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { WebSocketServer } from 'ws'
import { connectControl } from '../sync-server/admin/control'
import { dataPaths } from '../sync-server/storage/paths'
import { runServer } from '../sync-server/start'

type Request = { type: 'mem' } | { type: 'token'; user: string } | { type: 'stop' }

const mode = process.argv[2]
const send = (msg: unknown) => process.send!(msg)

function memory() {
  globalThis.gc?.()
  globalThis.gc?.()
  const m = process.memoryUsage()
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers }
}

if (mode === 'stock') {
  const { setupWSConnection } = (await import('@y/websocket-server/utils')) as {
    setupWSConnection: (ws: unknown, req: unknown) => void
  }
  const wss = new WebSocketServer({ noServer: true })
  const http = createServer((_req, res) => res.end('okay'))
  http.on('upgrade', (req, socket, head) =>
    wss.handleUpgrade(req, socket, head, (ws) => setupWSConnection(ws, req)),
  )
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r))
  const port = (http.address() as { port: number }).port
  process.on('message', (msg: Request) => {
    if (msg.type === 'mem') send({ type: 'mem', value: memory() })
    if (msg.type === 'stop') process.exit(0)
  })
  send({ type: 'ready', port, url: `ws://127.0.0.1:${port}` })
} else {
  const dir = mkdtempSync(join(tmpdir(), 'cmdai-bench-sync-'))
  const running = await runServer({
    dataDir: dir,
    port: 0,
    host: '127.0.0.1',
    logger: pino({ level: 'warn' }, pino.destination(2)),
    // The bench opens many rooms with few tokens, and floods on purpose only within the rate.
    limits: { maxRoomsPerToken: 100_000 },
  })
  const control = await connectControl(dataPaths(dir).control, 'bench')
  process.on('message', (msg: Request) => {
    void (async () => {
      if (msg.type === 'mem') send({ type: 'mem', value: memory() })
      if (msg.type === 'token') {
        const r = (await control!.call('tokenCreate', {
          team: 'bench',
          user: msg.user,
          role: 'engineer',
        })) as {
          token: string
        }
        send({ type: 'token', value: r.token })
      }
      if (msg.type === 'stop') {
        await running.close()
        rmSync(dir, { recursive: true, force: true })
        process.exit(0)
      }
    })()
  })
  send({ type: 'ready', port: running.port, url: `ws://127.0.0.1:${running.port}/sync` })
}
