import { copyFileSync, mkdirSync, mkdtempSync, rmSync, truncateSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LlmEvents, Verdict } from '../../contract'
import { ensureFixtureModel } from '../../scripts/fixture-model'
import { LlmEngine, type LlmEmit } from './engine'
import type { SafetyPort } from './safety-port'

/**
 * Records what reaches the safety engine. The engine's contract is to pass every command
 * through the port; the rules themselves are main/safety's and tested there.
 */
function recordingSafety() {
  const analyzed: string[] = []
  const port: SafetyPort = {
    analyze: (command, shell): Verdict => {
      analyzed.push(command)
      return { command, shell, risk: 'moderate', action: 'allow', reasons: [] }
    },
    redact: (text) => {
      const out = text.replace(/ghp_[A-Za-z0-9]{20,}/g, '[REDACTED]')
      return { text: out, count: out === text ? 0 : 1 }
    },
  }
  return { port, analyzed }
}

let dataDir: string
let tiny: string
const events: Array<{ event: keyof LlmEvents; payload: unknown }> = []
const emit: LlmEmit = (event, payload) => events.push({ event, payload })

function engine(settings: ConstructorParameters<typeof LlmEngine>[0]['settings'] = {}) {
  const safety = recordingSafety()
  const e = new LlmEngine({
    dataDir,
    env: { CMDAI_MODEL: tiny },
    emit,
    safety: safety.port,
    settings: {
      gpu: 'cpu',
      threads: 1,
      contextSize: 2048,
      maxCommandChars: 60,
      maxExplanationChars: 80,
      ...settings,
    },
  })
  return { engine: e, safety }
}

const context = {
  os: 'linux',
  shell: 'bash',
  cwd: '/repo',
  files: ['README.md', 'src/'],
  gitBranch: 'main',
  gitStatus: 'clean',
}

beforeAll(() => {
  tiny = ensureFixtureModel('tiny')
  dataDir = mkdtempSync(join(tmpdir(), 'cmdai-llm-'))
})
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

describe('LlmEngine with the tiny fixture model', () => {
  it('loads the model and generates valid, safety-checked JSON, streaming deltas', async () => {
    const { engine: e, safety } = engine()
    events.length = 0
    const result = await e.generate({ request: 'list files', requestId: 'r1', context })
    expect(typeof result.command).toBe('string')
    expect(result.command.length).toBeLessThanOrEqual(60)
    expect(typeof result.explanation).toBe('string')
    expect(Array.isArray(result.assumptions)).toBe(true)
    expect(safety.analyzed).toContain(result.command)
    expect(result.verdict.command).toBe(result.command)
    expect(result.model).toBe(basename(tiny, '.gguf'))
    expect(result.timings.totalMs).toBeGreaterThan(0)
    expect(result.timings.commandMs).toBeLessThanOrEqual(result.timings.totalMs)
    const tokens = events
      .filter((x) => x.event === 'llm:token')
      .map((x) => (x.payload as { text: string }).text)
    expect(tokens.length).toBeGreaterThan(3)
    // Deltas, not snapshots: they add up to the whole answer, which is valid JSON.
    expect(JSON.parse(tokens.join(''))).toMatchObject({ command: result.command })
    const commandEvent = events.findIndex((x) => x.event === 'llm:command')
    const lastToken = events.map((x) => x.event).lastIndexOf('llm:token')
    expect(commandEvent).toBeGreaterThan(-1)
    expect(commandEvent).toBeLessThan(lastToken)
    expect(e.status()).toMatchObject({ state: 'ready', compute: 'cpu', model: { source: 'env' } })
    await e.dispose()
  })

  it('redacts secrets in the context before they reach the prompt', async () => {
    const { engine: e } = engine()
    const result = await e.generate({
      request: 'push',
      requestId: 'r-secret',
      context: {
        ...context,
        recentCommands: ['export GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123'],
      },
    })
    expect(result.redactions).toBe(1)
    await e.dispose()
  })

  it('cancels a request mid-generation and keeps working', async () => {
    const { engine: e } = engine({ maxCommandChars: 400, maxExplanationChars: 400 })
    let seen = 0
    const cancelling: LlmEmit = (event) => {
      if (event === 'llm:token' && ++seen === 3) e.cancel('r2')
    }
    ;(e as unknown as { emit: LlmEmit }).emit = cancelling
    // Loading (and measuring speculation) is not what is timed here.
    await e.load()
    const started = performance.now()
    await expect(
      e.generate({ request: 'list files', requestId: 'r2', context }),
    ).rejects.toMatchObject({
      code: 'cancelled',
    })
    expect(seen).toBeLessThan(50)
    expect(performance.now() - started).toBeLessThan(5000)
    const after = await e.generate({ request: 'again', requestId: 'r3', context })
    expect(typeof after.command).toBe('string')
    await e.dispose()
  })

  it('bounds every request with a timeout, even when a stage hangs', async () => {
    // A random-weight model may answer at once, so the stage that overruns is the safety check:
    // a verdict that takes 30 s must not hold the request past its 1 s deadline.
    const e = new LlmEngine({
      dataDir,
      env: { CMDAI_MODEL: tiny },
      emit,
      safety: {
        analyze: (command, shell) =>
          new Promise<Verdict>((resolve) =>
            setTimeout(
              () => resolve({ command, shell, risk: 'moderate', action: 'allow', reasons: [] }),
              30_000,
            ).unref(),
          ),
        redact: (text) => ({ text, count: 0 }),
      },
      settings: { gpu: 'cpu', threads: 1, contextSize: 2048, timeoutMs: 1000 },
    })
    await e.load()
    const started = performance.now()
    await expect(
      e.generate({ request: 'list files', requestId: 'r4', context }),
    ).rejects.toMatchObject({
      code: 'timeout',
    })
    expect(performance.now() - started).toBeLessThan(5000)
    await e.dispose()
  })

  it('serves two requests at once, one after the other on the same model', async () => {
    const { engine: e, safety } = engine()
    const [a, b] = await Promise.all([
      e.generate({ request: 'list files', requestId: 'a', context }),
      e.generate({ request: 'show disk usage', requestId: 'b', context }),
    ])
    expect(a.requestId).toBe('a')
    expect(b.requestId).toBe('b')
    expect(safety.analyzed).toEqual(expect.arrayContaining([a.command, b.command]))
    // The same request id twice at once is refused rather than mixed up.
    const first = e.generate({ request: 'x', requestId: 'dup', context })
    await expect(e.generate({ request: 'y', requestId: 'dup', context })).rejects.toMatchObject({
      code: 'conflict',
    })
    await first
    await e.dispose()
  })

  it('switches to another model file for a request', async () => {
    const other = join(dataDir, 'models', 'other-tiny.gguf')
    mkdirSync(join(dataDir, 'models'), { recursive: true })
    copyFileSync(tiny, other)
    const { engine: e } = engine()
    const first = await e.generate({ request: 'list files', requestId: 'm1', context })
    const second = await e.generate({
      request: 'list files',
      requestId: 'm2',
      context,
      model: 'other-tiny',
    })
    expect(first.model).toBe(basename(tiny, '.gguf'))
    expect(second.model).toBe('other-tiny')
    expect(e.status().model).toMatchObject({ id: 'other-tiny', source: 'request' })
    await e.dispose()
  })

  it('reports a truncated model file as a clear error, without crashing', async () => {
    const bad = join(dataDir, 'truncated.gguf')
    copyFileSync(tiny, bad)
    truncateSync(bad, Math.floor(statSync(tiny).size / 3))
    const { engine: e } = engine()
    await expect(
      e.generate({ request: 'list files', requestId: 'c1', context, model: bad }),
    ).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringMatching(/truncated/),
    })
    expect(e.status()).toMatchObject({ state: 'error', error: { code: 'invalid_input' } })
    const fine = await e.generate({ request: 'list files', requestId: 'c2', context })
    expect(typeof fine.command).toBe('string')
    await e.dispose()
  })

  it('explains a command with the model and the safety verdict', async () => {
    const { engine: e, safety } = engine()
    const result = await e.explain({ command: 'rm -rf ./build', shell: 'bash' })
    expect(typeof result.explanation).toBe('string')
    expect(result.verdict.command).toBe('rm -rf ./build')
    expect(safety.analyzed).toContain('rm -rf ./build')
    await e.dispose()
  })
})
