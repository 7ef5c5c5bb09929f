import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { LlmEvents, Verdict } from '../../contract'
import { LlmEngine } from './engine'
import type { SafetyPort } from './safety-port'
import { startFakeOpenAi, type FakeOpenAi } from './testing/openai-server'

const answer = JSON.stringify({
  command: `grep -rn "TODO; fix {later}" src | awk '{print $1}'`,
  explanation: 'Finds "TODO; fix {later}" in src and prints the file names.',
  assumptions: ['src is the source folder'],
  needsInput: null,
})

let server: FakeOpenAi | null = null
let dataDir: string
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'cmdai-openai-'))
})
afterEach(async () => {
  await server?.close()
  server = null
  rmSync(dataDir, { recursive: true, force: true })
})

function engineFor(baseUrl: string, key: string | undefined) {
  const analyzed: string[] = []
  const safety: SafetyPort = {
    analyze: (command, shell): Verdict => {
      analyzed.push(command)
      return { command, shell, risk: 'safe', action: 'allow', reasons: [] }
    },
    redact: (text) => ({ text, count: 0 }),
  }
  const events: Array<[keyof LlmEvents, unknown]> = []
  const engine = new LlmEngine({
    dataDir,
    env: key ? { CMDAI_OPENAI_API_KEY: key } : {},
    safety,
    gatherContext: false,
    emit: (event, payload) => events.push([event, payload]),
    settings: {
      backend: 'openai',
      openai: { baseUrl, model: 'qwen2.5-coder:1.5b', apiKeyEnv: 'CMDAI_OPENAI_API_KEY' },
    },
  })
  return { engine, analyzed, events }
}

describe('OpenAI-compatible backend', () => {
  it('asks for the same schema, streams deltas and passes the command through safety', async () => {
    server = await startFakeOpenAi({ apiKey: 'sk-test', answer })
    const { engine, analyzed, events } = engineFor(server.baseUrl, 'sk-test')
    const result = await engine.generate({
      request: 'find todos',
      requestId: 'o1',
      context: { shell: 'bash' },
    })
    expect(result.command).toBe(`grep -rn "TODO; fix {later}" src | awk '{print $1}'`)
    expect(result.backend).toBe('openai')
    expect(result.model).toBe('qwen2.5-coder:1.5b')
    expect(analyzed).toEqual([result.command])
    expect(result.timings.promptTokens).toBe(42)
    const sent = server.requests[0]!.body as {
      response_format: { json_schema: { schema: { required: string[]; properties: object } } }
      stream: boolean
    }
    expect(sent.stream).toBe(true)
    expect(sent.response_format.json_schema.schema.required).toEqual([
      'command',
      'explanation',
      'assumptions',
      'needsInput',
    ])
    const deltas = events
      .filter(([e]) => e === 'llm:token')
      .map(([, p]) => (p as { text: string }).text)
    expect(deltas.length).toBeGreaterThan(10)
    expect(deltas.join('')).toBe(answer)
    expect(events.some(([e]) => e === 'llm:command')).toBe(true)
    expect(engine.status()).toMatchObject({
      state: 'ready',
      compute: 'remote',
      model: { source: 'remote' },
    })
  })

  it('says which variable to set when the key is missing or wrong', async () => {
    server = await startFakeOpenAi({ apiKey: 'sk-test', answer })
    const { engine } = engineFor(server.baseUrl, undefined)
    await expect(engine.generate({ request: 'x', requestId: 'o2' })).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringMatching(/CMDAI_OPENAI_API_KEY/),
    })
  })

  it('can be cancelled while streaming', async () => {
    server = await startFakeOpenAi({ apiKey: 'k', answer, chunkChars: 1, delayMs: 20 })
    const { engine } = engineFor(server.baseUrl, 'k')
    const pending = engine.generate({ request: 'x', requestId: 'o3' })
    setTimeout(() => engine.cancel('o3'), 100)
    await expect(pending).rejects.toMatchObject({ code: 'cancelled' })
  })

  it('refuses a non-loopback endpoint unless remote backends are allowed', async () => {
    const { engine } = engineFor('https://api.example.invalid/v1', 'k')
    await expect(engine.generate({ request: 'x', requestId: 'o5' })).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringMatching(/allowRemoteBackends/),
    })
  })

  it('reports an unreachable endpoint clearly', async () => {
    const { engine } = engineFor('http://127.0.0.1:9/v1', 'k')
    await expect(engine.generate({ request: 'x', requestId: 'o4' })).rejects.toMatchObject({
      code: 'unavailable',
    })
  })
})
