/**
 * Start-up benchmark, browser mode: from starting `cmdai serve` to a usable prompt in Chromium,
 * and on to an open history database and a loaded model, cold (a new data dir: the database is
 * created) and warm (the same data dir again). Each run starts a new server and a new browser
 * profile; the clock starts when `cmdai serve` is spawned.
 *
 *   listening     the server printed its URL
 *   prompt        the shell's prompt is on screen
 *   usable        a command typed at that prompt has run and its output is on screen
 *   history       the status bar says the history database is ready
 *   model         the status bar says the model is loaded (a Qwen2.5-0.5B-shaped fixture GGUF)
 *
 * The prompt must be usable before the database and the model are ready (target < 1.5 s).
 *
 *   npm run bench:startup           (BENCH_STARTUP_WARM_RUNS=3 sets the warm runs)
 *
 * Last line: one JSON object.
 */
import { loadavg } from 'node:os'
import { ensureFixtureModel } from '../scripts/fixture-model'
import {
  ensureBuilt,
  launchChromium,
  makeRoot,
  openPage,
  removeRoot,
  round,
  screenText,
  startServe,
  stopServe,
  until,
} from './browser-mode'

const WARM_RUNS = Number(process.env.BENCH_STARTUP_WARM_RUNS ?? 3)
const USABLE_MARGIN_MS = 500

interface Run {
  kind: 'cold' | 'warm'
  listeningMs: number
  promptMs: number
  usableMs: number
  historyMs: number
  modelMs: number
  /** The slowest a keystroke took to echo while the database and model were still loading. */
  worstEchoMs: number
}

async function run(
  kind: Run['kind'],
  home: string,
  dataDir: string,
  modelPath: string,
): Promise<Run> {
  const browser = await launchChromium()
  const served = await startServe(home, dataDir, { CMDAI_MODEL: modelPath })
  const since = () => performance.now() - served.startedAt
  try {
    const page = await openPage(browser, served.url)
    await until('prompt', async () => (await screenText(page)).includes('@cmdai:'), 300_000, 10)
    const promptMs = since()
    await page.locator('.terminal-pane:not([hidden]) .xterm').click()
    await page.keyboard.type('echo ready-$((6*7))\n')
    await until('usable', async () => /^ready-42$/m.test(await screenText(page)), 300_000, 10)
    const usableMs = since()

    // Keep typing while the rest loads: how long does one keystroke take to come back?
    let worstEchoMs = 0
    let historyMs = 0
    let modelMs = 0
    const status = async (id: string) =>
      (await page
        .getByTestId(id)
        .textContent()
        .catch(() => '')) ?? ''
    for (let i = 0; !historyMs || !modelMs; i++) {
      if (since() > 600_000) throw new Error('history or model not ready after 10 minutes')
      if (!historyMs && (await status('status-db')) === 'history: ready') historyMs = since()
      const model = await status('status-model')
      if (model === 'model: error') throw new Error('the model did not load')
      if (!modelMs && /^model: .+ \(.+\)$/.test(model)) modelMs = since()
      if (historyMs && modelMs) break
      const mark = `k${i % 10}`
      const typed = performance.now()
      await page.keyboard.type(mark)
      await until('echo', async () => (await screenText(page)).trimEnd().endsWith(mark), 300_000, 5)
      worstEchoMs = Math.max(worstEchoMs, performance.now() - typed)
      await page.keyboard.press('Control+U')
      await page.waitForTimeout(100)
    }
    return {
      kind,
      listeningMs: Math.round(served.listeningMs),
      promptMs: Math.round(promptMs),
      usableMs: Math.round(usableMs),
      historyMs: Math.round(historyMs),
      modelMs: Math.round(modelMs),
      worstEchoMs: Math.round(worstEchoMs),
    }
  } finally {
    await browser.close()
    await stopServe(served)
  }
}

function describe(r: Run): string {
  return (
    `${r.kind}: listening ${r.listeningMs} ms, prompt ${r.promptMs} ms, usable ${r.usableMs} ms, ` +
    `history ${r.historyMs} ms, model ${r.modelMs} ms; slowest keystroke echo while loading ` +
    `${r.worstEchoMs} ms`
  )
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? 0
}

async function main() {
  ensureBuilt()
  const modelPath = ensureFixtureModel('qwen2.5-0.5b')
  const loadBefore = loadavg().map((n) => round(n, 2))
  const { root, home, dataDir } = makeRoot('cmdai-bench-startup-')
  try {
    const cold = await run('cold', home, dataDir, modelPath)
    console.log(describe(cold))
    const warm: Run[] = []
    for (let i = 0; i < WARM_RUNS; i++) {
      warm.push(await run('warm', home, dataDir, modelPath))
      console.log(describe(warm[warm.length - 1]!))
    }
    const warmMedian = {
      listeningMs: median(warm.map((r) => r.listeningMs)),
      promptMs: median(warm.map((r) => r.promptMs)),
      usableMs: median(warm.map((r) => r.usableMs)),
      historyMs: median(warm.map((r) => r.historyMs)),
      modelMs: median(warm.map((r) => r.modelMs)),
      worstEchoMs: median(warm.map((r) => r.worstEchoMs)),
    }
    // "Before" with a margin: a prompt that answers in the same instant as the database opened
    // was waiting for it (the database opens on the server's thread).
    const usableFirst = [cold, ...warm].every(
      (r) => r.usableMs + USABLE_MARGIN_MS < Math.min(r.historyMs, r.modelMs),
    )
    console.log(
      `warm median: usable ${warmMedian.usableMs} ms (target < 1500), history ${warmMedian.historyMs} ms, model ${warmMedian.modelMs} ms`,
    )
    console.log(
      `prompt usable at least ${USABLE_MARGIN_MS} ms before the database and the model in every run: ${usableFirst}`,
    )
    const loadAfter = loadavg().map((n) => round(n, 2))
    console.log(`load average before ${loadBefore.join(' ')}, after ${loadAfter.join(' ')}`)
    console.log(JSON.stringify({ cold, warm, warmMedian, usableFirst, loadBefore, loadAfter }))
  } finally {
    removeRoot(root)
  }
}

await main()
process.exit(0)
