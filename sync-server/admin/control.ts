import { randomBytes, timingSafeEqual } from 'node:crypto'
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { z } from 'zod'
import { toErrorEnvelope } from '../../contract/errors'

/**
 * The loopback control channel of a running server: how `cmdai-sync token create --data DIR`
 * (and the other admin commands) reach a server that owns the data dir (PGlite admits one
 * process). It listens on 127.0.0.1 on a random port; the port and a random secret are in
 * `<data>/run/control.json` (0600 in a 0700 dir), so only the data dir's owner can use it.
 */
export interface ControlHandlers {
  /** JSON operations: input in, result out. */
  call(op: string, input: unknown, actor: string): Promise<unknown>
  /** Streaming operations (audit export): writes text chunks. */
  stream(op: string, input: unknown, write: (chunk: string) => Promise<void>): Promise<void>
}

const fileSchema = z.object({
  port: z.number().int(),
  secret: z.string().min(32),
  pid: z.number().int(),
})

const bodySchema = z
  .object({ op: z.string().max(50), input: z.unknown(), actor: z.string().max(200) })
  .strict()

export async function startControl(
  path: string,
  handlers: ControlHandlers,
): Promise<{ close(): Promise<void> }> {
  const secret = randomBytes(32).toString('base64url')
  const expected = Buffer.from(`Bearer ${secret}`)
  const server: Server = createServer((req, res) => {
    const given = Buffer.from(req.headers.authorization ?? '')
    if (
      given.length !== expected.length ||
      !timingSafeEqual(given, expected) ||
      req.method !== 'POST'
    ) {
      res.writeHead(403).end()
      return
    }
    void (async () => {
      const chunks: Buffer[] = []
      let size = 0
      for await (const c of req) {
        size += (c as Buffer).length
        if (size > 1 << 20) {
          res.writeHead(413).end()
          return
        }
        chunks.push(c as Buffer)
      }
      let body: z.infer<typeof bodySchema>
      try {
        body = bodySchema.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')))
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' })
        res.end(
          JSON.stringify({
            ok: false,
            error: { code: 'invalid_input', message: 'bad control request' },
          }),
        )
        return
      }
      if (req.url === '/control/stream') {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
        try {
          await handlers.stream(body.op, body.input, async (chunk) => {
            if (!res.write(chunk)) await new Promise((r) => res.once('drain', r))
          })
          res.end()
        } catch (err) {
          // The client sees a truncated stream without the end marker and reports it.
          res.destroy(err as Error)
        }
        return
      }
      try {
        const value = await handlers.call(body.op, body.input, body.actor)
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ ok: true, value }))
      } catch (err) {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ ok: false, error: toErrorEnvelope(err) }))
      }
    })()
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, JSON.stringify({ port, secret, pid: process.pid }), { mode: 0o600 })
  renameSync(tmp, path)
  return {
    close: async () => {
      try {
        if (fileSchema.parse(JSON.parse(readFileSync(path, 'utf8'))).pid === process.pid)
          rmSync(path)
      } catch {
        // Already gone or replaced.
      }
      await new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeAllConnections()
    },
  }
}

/** A client for a running server's control channel, or null when none answers. */
export interface ControlClient {
  call(op: string, input: unknown): Promise<unknown>
  stream(op: string, input: unknown, onChunk: (chunk: string) => void): Promise<void>
}

export class ControlError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

export async function connectControl(path: string, actor: string): Promise<ControlClient | null> {
  let info: z.infer<typeof fileSchema>
  try {
    info = fileSchema.parse(JSON.parse(readFileSync(path, 'utf8')))
  } catch {
    return null
  }
  const post = (url: string, payload: unknown, onData: (chunk: string) => void) =>
    new Promise<number>((resolve, reject) => {
      const body = JSON.stringify(payload)
      const req = request(
        {
          host: '127.0.0.1',
          port: info.port,
          path: url,
          method: 'POST',
          headers: { authorization: `Bearer ${info.secret}`, 'content-type': 'application/json' },
        },
        (res) => {
          res.setEncoding('utf8')
          res.on('data', onData)
          res.on('end', () => resolve(res.statusCode ?? 0))
          res.on('error', reject)
          res.on('aborted', () => reject(new Error('the server ended the stream early')))
        },
      )
      req.on('error', reject)
      req.end(body)
    })
  const client: ControlClient = {
    async call(op, input) {
      let text = ''
      const status = await post('/control/call', { op, input, actor }, (c) => (text += c))
      if (status !== 200) throw new ControlError('internal', `control channel answered ${status}`)
      const parsed = JSON.parse(text) as {
        ok: boolean
        value?: unknown
        error?: { code: string; message: string }
      }
      if (!parsed.ok)
        throw new ControlError(parsed.error?.code ?? 'internal', parsed.error?.message ?? 'failed')
      return parsed.value
    },
    async stream(op, input, onChunk) {
      const status = await post('/control/stream', { op, input, actor }, onChunk)
      if (status !== 200) throw new ControlError('internal', `control channel answered ${status}`)
    },
  }
  try {
    await client.call('ping', {})
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED') return null
    throw err
  }
  return client
}
