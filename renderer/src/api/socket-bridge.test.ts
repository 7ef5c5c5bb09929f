import { afterEach, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { createSocketBridge, type ConnectionState, type SocketBridge } from './socket-bridge'

// Node 20 has no global WebSocket; the `ws` client speaks the same browser API the bridge uses.
;(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket

async function waitFor(what: string, probe: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

interface Echo {
  wss: WebSocketServer
  port: number
  close(): Promise<void>
}

/** A stand-in for `cmdai serve`: answers every request with its channel, on a fixed port. */
async function startEcho(port = 0): Promise<Echo> {
  const wss = new WebSocketServer({ port, host: '127.0.0.1' })
  await new Promise((resolve) => wss.once('listening', resolve))
  wss.on('connection', (ws) => {
    ws.on('message', (raw) => {
      const frame = JSON.parse(raw.toString()) as { id: number; channel: string }
      if (frame.channel === 'hang') return
      ws.send(
        JSON.stringify({ t: 'res', id: frame.id, result: { ok: true, value: frame.channel } }),
      )
      ws.send(JSON.stringify({ t: 'evt', name: 'pty:prompt', payload: { id: 't1' } }))
    })
  })
  return {
    wss,
    port: (wss.address() as { port: number }).port,
    async close() {
      for (const client of wss.clients) client.terminate()
      await new Promise((resolve) => wss.close(resolve))
    },
  }
}

let bridge: SocketBridge | null = null
let echo: Echo | null = null
afterEach(async () => {
  bridge?.close()
  await echo?.close().catch(() => undefined)
  bridge = null
  echo = null
})

describe('socket bridge', () => {
  it('reconnects after the server restarts; listeners stay, requests in flight fail clearly', async () => {
    echo = await startEcho()
    const port = echo.port
    let probeAnswer: 'ok' | 'refused' | 'down' = 'down'
    bridge = createSocketBridge({
      url: `ws://127.0.0.1:${port}/ws`,
      backoffMs: [20, 40],
      probe: async () => probeAnswer,
    })
    const states: ConnectionState[] = []
    bridge.onState((s) => states.push(s))
    const prompts: unknown[] = []
    bridge.on('pty:prompt', (p) => prompts.push(p))
    expect(await bridge.invoke('app:info', {})).toEqual({ ok: true, value: 'app:info' })

    const inFlight = bridge.invoke('hang' as 'app:info', {})
    await echo.close()
    expect(await inFlight).toMatchObject({ ok: false, error: { code: 'unavailable' } })
    await waitFor('reconnecting', () => bridge!.state === 'reconnecting')
    expect(await bridge.invoke('app:info', {})).toMatchObject({ ok: false })

    // The server's token changed: the page says so instead of spinning silently.
    probeAnswer = 'refused'
    await waitFor('refused', () => bridge!.state === 'refused')

    probeAnswer = 'ok'
    echo = await startEcho(port)
    await waitFor('open again', () => bridge!.state === 'open', 5000)
    expect(await bridge.invoke('pty:list', {})).toEqual({ ok: true, value: 'pty:list' })
    expect(prompts.length).toBeGreaterThanOrEqual(2)
    expect(states).toEqual(['open', 'reconnecting', 'refused', 'reconnecting', 'open'])
  })

  it('ignores frames it cannot parse, and close() stops reconnecting', async () => {
    echo = await startEcho()
    bridge = createSocketBridge({ url: `ws://127.0.0.1:${echo.port}/ws`, backoffMs: [10] })
    await waitFor('open', () => bridge!.state === 'open')
    for (const client of echo.wss.clients) {
      client.send('{not json')
      client.send(JSON.stringify({ t: 'res', id: 999, result: null }))
    }
    expect(await bridge.invoke('app:info', {})).toEqual({ ok: true, value: 'app:info' })
    bridge.close()
    await new Promise((r) => setTimeout(r, 100))
    expect(bridge.state).toBe('closed')
    expect(echo.wss.clients.size).toBe(0)
  })
})
