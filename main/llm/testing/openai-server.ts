import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FakeOpenAi {
  baseUrl: string
  /** Every request body received, parsed. */
  requests: Array<{ authorization: string | null; body: Record<string, unknown> }>
  close(): Promise<void>
}

async function readBody(req: IncomingMessage): Promise<string> {
  let body = ''
  for await (const chunk of req) body += String(chunk)
  return body
}

/**
 * A small server on 127.0.0.1 that speaks OpenAI's streaming `/v1/chat/completions`: it checks
 * the bearer key and the json_schema response format, then streams `answer` as SSE deltas of a
 * few characters each, like a real endpoint does.
 */
export async function startFakeOpenAi(options: {
  apiKey: string
  answer: string
  chunkChars?: number
  delayMs?: number
}): Promise<FakeOpenAi> {
  const requests: FakeOpenAi['requests'] = []
  const server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404).end('{"error":{"message":"not found"}}')
        return
      }
      const authorization = req.headers.authorization ?? null
      const body = JSON.parse(await readBody(req)) as Record<string, unknown>
      requests.push({ authorization, body })
      if (authorization !== `Bearer ${options.apiKey}`) {
        res
          .writeHead(401, { 'content-type': 'application/json' })
          .end('{"error":{"message":"bad key"}}')
        return
      }
      const format = body.response_format as
        { type?: string; json_schema?: { schema?: unknown } } | undefined
      if (format?.type !== 'json_schema' || !format.json_schema?.schema) {
        res
          .writeHead(400, { 'content-type': 'application/json' })
          .end('{"error":{"message":"need json_schema"}}')
        return
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
      const step = options.chunkChars ?? 4
      for (let i = 0; i < options.answer.length; i += step) {
        if (res.destroyed) return
        const chunk = {
          id: 'x',
          object: 'chat.completion.chunk',
          choices: [
            {
              index: 0,
              delta: { content: options.answer.slice(i, i + step) },
              finish_reason: null,
            },
          ],
        }
        res.write(`data: ${JSON.stringify(chunk)}\n\n`)
        if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs))
      }
      res.write(
        `data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: { prompt_tokens: 42, completion_tokens: 17 } })}\n\n`,
      )
      res.end('data: [DONE]\n\n')
    })()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
