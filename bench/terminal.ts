/**
 * Terminal benchmark: output from a flooding program through `cmdai serve` (PTY, server-side
 * screen mirror, flow control, WebSocket) to xterm.js in Chromium, and what it costs the server.
 *
 *   - MB/s from the PTY to the screen: `yes … | head -c N` until its end marker is on screen
 *     (xterm's DOM renderer, so the text can be read; 500 MB by default).
 *   - The server's peak memory growth while it passes (RSS sampled every 100 ms; target < 100 MB).
 *   - Ctrl+C during an endless flood: time until a command typed after it has run and shown.
 *   - The server side alone (PtyService + mirror, acknowledged at once, no browser), for scale.
 *
 *   npm run bench:terminal          (BENCH_TERMINAL_MB=500 sets the flood size)
 *
 * Last line: one JSON object.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Events } from '../contract'
import { startService } from '../main/terminal/testing'
import {
  ensureBuilt,
  launchChromium,
  makeRoot,
  MB,
  openPage,
  removeRoot,
  round,
  rssOf,
  sampleRss,
  screenText,
  startServe,
  stopServe,
  until,
} from './browser-mode'

const FLOOD_MB = Number(process.env.BENCH_TERMINAL_MB ?? 500)
const SERVER_ONLY_MB = Number(process.env.BENCH_TERMINAL_SERVER_MB ?? 100)
const LINE = 'cmdai-flood-line 0123456789 abcdefghijklmnopqrstuvwxyz'

async function throughBrowser() {
  ensureBuilt()
  const { root, home, dataDir } = makeRoot('cmdai-bench-term-')
  const served = await startServe(home, dataDir)
  const browser = await launchChromium()
  try {
    console.log(`serve listening after ${Math.round(served.listeningMs)} ms`)
    const page = await openPage(browser, served.url)
    await until('prompt', async () => (await screenText(page)).includes('@cmdai:'), 120_000)
    console.log('prompt on screen; waiting for the history database to open')
    // The history database opens on the server's thread; measure after it has.
    await until(
      'history ready',
      async () =>
        (await page
          .getByTestId('status-db')
          .textContent()
          .catch(() => '')) === 'history: ready',
      180_000,
      200,
    )
    await page.waitForTimeout(2000)
    console.log(`flooding ${FLOOD_MB} MB`)
    await page.locator('.terminal-pane:not([hidden]) .xterm').click()
    const pid = served.child.pid!
    const before = rssOf(pid)
    const sampler = sampleRss(pid)
    const bytes = Math.round(FLOOD_MB * MB)
    await page.keyboard.type(`yes '${LINE}' | head -c ${bytes}; echo; echo BENCH-DONE-$((20+22))\n`)
    const floodMs = await until(
      'flood on screen',
      async () => /^BENCH-DONE-42$/m.test(await screenText(page)),
      1_800_000,
      // Reading the screen costs the page time; often enough for a flood of many seconds.
      500,
    )
    const peak = sampler.stop()

    // Ctrl+C during an endless flood.
    await page.keyboard.type(`clear; yes '${LINE}'\n`)
    await page.waitForTimeout(3000)
    const sent = performance.now()
    await page.keyboard.press('Control+C')
    await page.keyboard.type('echo stopped-$((6*7))\n')
    await until(
      'Ctrl+C answered',
      async () => /^stopped-42$/m.test(await screenText(page)),
      60_000,
      20,
    )
    const ctrlCMs = performance.now() - sent
    return {
      floodMB: FLOOD_MB,
      mbPerSecond: round(FLOOD_MB / (floodMs / 1000), 2),
      floodSeconds: round(floodMs / 1000),
      serverRssBeforeMB: round(before / MB),
      serverPeakGrowthMB: round((peak - before) / MB),
      ctrlCMs: Math.round(ctrlCMs),
    }
  } finally {
    await browser.close()
    await stopServe(served)
    removeRoot(root)
  }
}

/** The server's own ceiling: a real PTY and mirror, every chunk acknowledged at once. */
async function serverOnly() {
  const home = mkdtempSync(join(tmpdir(), 'cmdai-bench-pty-'))
  writeFileSync(join(home, '.bashrc'), 'PS1="b$ "\n')
  const sut = startService(home, {}, 'tail')
  try {
    const info = sut.service.create(
      { cols: 120, rows: 30, cwd: home, shell: 'bash', acknowledged: true },
      'bench',
    )
    await until('prompt', async () => sut.prompted(info.id), 30_000)
    let last = 0
    const acker = setInterval(() => {
      const data = sut.seen.filter((r) => r.event === 'pty:data')
      const tail = data[data.length - 1]?.payload as Events['pty:data'] | undefined
      if (tail && tail.seq > last) {
        last = tail.seq
        sut.service.ack(info.id, tail.seq)
      }
      sut.seen.length = 0
    }, 5)
    const bytes = Math.round(SERVER_ONLY_MB * MB)
    const started = performance.now()
    sut.service.write(info.id, `yes '${LINE}' | head -c ${bytes}; echo; echo SRV-DONE-$((1+1))\r`)
    await until('server flood', async () => /SRV-DONE-2/.test(sut.output(info.id)), 600_000, 20)
    const ms = performance.now() - started
    clearInterval(acker)
    return {
      serverOnlyMB: SERVER_ONLY_MB,
      serverOnlyMbPerSecond: round(SERVER_ONLY_MB / (ms / 1000), 2),
    }
  } finally {
    await sut.service.disposeAll()
    rmSync(home, { recursive: true, force: true })
  }
}

const load = () => loadavg().map((n) => round(n, 2))

async function main() {
  const loadBefore = load()
  const browser = await throughBrowser()
  console.log(
    `PTY -> screen (Chromium, DOM renderer): ${browser.floodMB} MB in ${browser.floodSeconds} s = ${browser.mbPerSecond} MB/s`,
  )
  console.log(
    `server memory: ${browser.serverRssBeforeMB} MB before, peak growth ${browser.serverPeakGrowthMB} MB (target < 100 MB)`,
  )
  console.log(`Ctrl+C during a flood: next command on screen after ${browser.ctrlCMs} ms`)
  const server = await serverOnly()
  console.log(
    `server side alone (PTY + mirror, no browser): ${server.serverOnlyMB} MB at ${server.serverOnlyMbPerSecond} MB/s`,
  )
  const loadAfter = load()
  console.log(`load average before ${loadBefore.join(' ')}, after ${loadAfter.join(' ')}`)
  console.log(JSON.stringify({ ...browser, ...server, loadBefore, loadAfter }))
}

await main()
process.exit(0)
