/**
 * `npm run bench:llm` — the local model engine on the Qwen2.5-0.5B-shaped Q8_0 fixture, CPU.
 * Cold (no reused KV state) and warm (system prompt + context reused) requests through the whole
 * pipeline (context gathering, prompt, JSON-schema grammar, safety check), and node-llama-cpp's
 * raw evaluation of exactly the same tokens in the same run. Last line: one JSON object.
 *
 * Random weights write random strings, so lengths are bounded like a typical answer: the command
 * to CMDAI_BENCH_COMMAND_CHARS (default 48), the explanation to 120 characters, one assumption.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { Token } from 'node-llama-cpp'
import { LlmEngine } from '../main/llm/engine'
import type { LocalBackend } from '../main/llm/local-backend'
import { ensureFixtureModel } from '../scripts/fixture-model'

const shape = 'qwen2.5-0.5b'
const threadsSetting = process.env.CMDAI_LLM_THREADS
  ? Number(process.env.CMDAI_LLM_THREADS)
  : undefined
const commandChars = Number(process.env.CMDAI_BENCH_COMMAND_CHARS ?? 48)
const ms = (n: number) => Math.round(n * 10) / 10
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN
}

const genStart = performance.now()
const modelPath = ensureFixtureModel(shape)
const fixtureMs = performance.now() - genStart
const dataDir = mkdtempSync(join(tmpdir(), 'cmdai-bench-'))

const engine = new LlmEngine({
  dataDir,
  env: { ...process.env, CMDAI_MODEL: modelPath },
  settings: {
    gpu: 'cpu',
    threads: threadsSetting,
    contextSize: 4096,
    maxCommandChars: commandChars,
    maxExplanationChars: 120,
    maxAssumptions: 1,
    timeoutMs: 120_000,
  },
})

const loadStart = performance.now()
const backend = (await engine.load()) as LocalBackend
const loadMs = performance.now() - loadStart
const { model, threads } = backend.inspect()
if (!model) throw new Error('model not loaded')

const requests = [
  'list files',
  'show the ten largest files in this folder',
  'find all TypeScript files changed in the last day',
  'count lines of code in src',
  'show which process listens on port 3000',
  'compress the logs folder into a tarball',
  'undo the last git commit but keep the changes',
  'show disk usage of each folder here',
]

interface Sample {
  request: string
  firstTokenMs: number
  commandMs: number
  totalMs: number
  outputTokens: number
  promptTokens: number
  tokens: number[]
}

async function run(request: string, i: number): Promise<Sample> {
  const result = await engine.generate({
    request,
    requestId: `bench-${i}`,
    context: { cwd: process.cwd() },
  })
  const tokens = [...backend.inspect().contextTokens]
  return {
    request,
    firstTokenMs: result.timings.firstTokenMs,
    commandMs: result.timings.commandMs,
    totalMs: result.timings.totalMs,
    outputTokens: result.timings.outputTokens ?? 0,
    promptTokens: result.timings.promptTokens ?? 0,
    tokens,
  }
}

// Cold: an empty KV cache before each of two requests.
const cold: Sample[] = []
for (let i = 0; i < 2; i++) {
  await backend.clearCache()
  cold.push(await run(requests[i]!, i))
}
// Start-up path: an empty cache, then the background preload (system prompt + context of the
// cwd), then the user's first request.
await backend.clearCache()
const preloadStart = performance.now()
await engine.preload(process.cwd())
const preloadMs = performance.now() - preloadStart
const afterPreload = await run(requests[2]!, 100)
// Warm: the system prompt and context stay in the cache; only the request and answer are new.
// The JS thread stays free while llama.cpp works on libuv's pool: measure its event-loop delay.
const loopDelay = monitorEventLoopDelay({ resolution: 5 })
loopDelay.enable()
const warm: Sample[] = []
for (let i = 3; i < requests.length; i++) warm.push(await run(requests[i]!, i))
loopDelay.disable()

// Raw node-llama-cpp evaluation of the same tokens, on a second context of the same model:
// the prompt suffix in one batch, then each answer token as one decode step (no sampling,
// no grammar, no prompt building, no context gathering, no safety check).
const raw = await model.createContext({ contextSize: 4096, threads })
const seq = raw.getSequence()
const commonPrefix = (a: readonly number[], b: readonly number[]) => {
  let n = 0
  while (n < a.length && n < b.length && a[n] === b[n]) n++
  return n
}
async function rawEval(sample: Sample, previous: readonly number[] | null) {
  await seq.clearHistory()
  const promptEnd = sample.tokens.length - sample.outputTokens
  const reuse = previous ? Math.min(commonPrefix(previous, sample.tokens), promptEnd - 1) : 0
  if (reuse > 0)
    await seq.evaluateWithoutGeneratingNewTokens(sample.tokens.slice(0, reuse) as Token[])
  const start = performance.now()
  await seq.evaluateWithoutGeneratingNewTokens(sample.tokens.slice(reuse, promptEnd) as Token[])
  const firstTokenMs = performance.now() - start
  for (const token of sample.tokens.slice(promptEnd)) {
    await seq.evaluateWithoutGeneratingNewTokens([token as Token])
  }
  return { firstTokenMs, totalMs: performance.now() - start, evaluatedPrompt: promptEnd - reuse }
}
const rawCold = await rawEval(cold[0]!, null)
const rawWarm: Array<Awaited<ReturnType<typeof rawEval>>> = []
for (let i = 0; i < warm.length; i++) {
  const previous = i === 0 ? afterPreload.tokens : warm[i - 1]!.tokens
  rawWarm.push(await rawEval(warm[i]!, previous))
}
await raw.dispose()
await engine.dispose()
rmSync(dataDir, { recursive: true, force: true })

const warmTtft = median(warm.map((s) => s.firstTokenMs))
const coldTtft = median(cold.map((s) => s.firstTokenMs))
const warmTotal = median(warm.map((s) => s.totalMs))
const rawWarmTotal = median(rawWarm.map((r) => r.totalMs))
const decodeTps = median(
  warm.map((s) => s.outputTokens / Math.max(1e-9, (s.totalMs - s.firstTokenMs) / 1000)),
)
const pipelineOverhead =
  warm.reduce((a, s) => a + s.totalMs, 0) / rawWarm.reduce((a, r) => a + r.totalMs, 0) - 1
const peakRssMb = process.resourceUsage().maxRSS / 1024

console.log(
  `fixture ${shape} (Q8_0) ready in ${ms(fixtureMs)} ms; model load ${ms(loadMs)} ms; threads ${threads}${threadsSetting ? '' : ' (default)'}`,
)
for (const [label, list] of [
  ['cold', cold],
  ['warm', warm],
] as const) {
  for (const s of list) {
    console.log(
      `${label}  ttft ${ms(s.firstTokenMs)} ms  command ${ms(s.commandMs)} ms  total ${ms(s.totalMs)} ms  ` +
        `prompt ${s.promptTokens} tok  output ${s.outputTokens} tok  "${s.request}"`,
    )
  }
}
console.log(
  `event loop delay during warm requests: p99 ${ms(loopDelay.percentile(99) / 1e6)} ms, max ${ms(loopDelay.max / 1e6)} ms`,
)
console.log(
  `preload ${ms(preloadMs)} ms, then first request: ttft ${ms(afterPreload.firstTokenMs)} ms, ` +
    `command ${ms(afterPreload.commandMs)} ms, total ${ms(afterPreload.totalMs)} ms`,
)
console.log(
  `raw   cold prompt eval ${ms(rawCold.firstTokenMs)} ms (${rawCold.evaluatedPrompt} tok), total ${ms(rawCold.totalMs)} ms`,
)
for (const r of rawWarm)
  console.log(
    `raw   warm prompt eval ${ms(r.firstTokenMs)} ms (${r.evaluatedPrompt} tok), total ${ms(r.totalMs)} ms`,
  )
console.log(
  `warm ttft ${ms(warmTtft)} ms vs cold ${ms(coldTtft)} ms (${(coldTtft / warmTtft).toFixed(1)}x); ` +
    `warm command ${ms(median(warm.map((s) => s.commandMs)))} ms; warm total ${ms(warmTotal)} ms vs raw ${ms(rawWarmTotal)} ms ` +
    `(overhead ${(pipelineOverhead * 100).toFixed(1)}%); decode ${decodeTps.toFixed(1)} tok/s; peak RSS ${ms(peakRssMb)} MB`,
)
console.log(
  JSON.stringify({
    bench: 'llm',
    shape,
    threads,
    commandChars,
    loadMs: ms(loadMs),
    coldFirstTokenMs: ms(coldTtft),
    coldTotalMs: ms(median(cold.map((s) => s.totalMs))),
    warmFirstTokenMs: ms(warmTtft),
    warmCommandMs: ms(median(warm.map((s) => s.commandMs))),
    warmTotalMs: ms(warmTotal),
    warmSpeedupFirstToken: Math.round((coldTtft / warmTtft) * 10) / 10,
    decodeTokensPerSecond: Math.round(decodeTps * 10) / 10,
    preloadMs: ms(preloadMs),
    firstRequestAfterPreloadFirstTokenMs: ms(afterPreload.firstTokenMs),
    rawWarmTotalMs: ms(rawWarmTotal),
    rawColdFirstTokenMs: ms(rawCold.firstTokenMs),
    pipelineOverheadPct: Math.round(pipelineOverhead * 1000) / 10,
    peakRssMb: ms(peakRssMb),
    eventLoopDelayP99Ms: ms(loopDelay.percentile(99) / 1e6),
    eventLoopDelayMaxMs: ms(loopDelay.max / 1e6),
  }),
)
