/**
 * Shared by the terminal and start-up benchmarks: `cmdai serve` as a child process (as users run
 * it) and Debian's Chromium driving the built renderer, with the server's memory sampled from
 * /proc.
 */
import { chromium, type Browser, type Page } from '@playwright/test'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { resolveAppRoot, resolveOutDir } from '../main/config/paths'
// @ts-expect-error plain JavaScript (bin/cmdai.mjs imports it too), checked with @ts-check
import { freshBundle } from '../scripts/cli-bundle.mjs'

export interface Served {
  child: ChildProcess
  url: string
  dataDir: string
  home: string
  /** Milliseconds from spawn until the URL was printed. */
  listeningMs: number
  startedAt: number
}

/**
 * Builds the app once if there is no build (the benchmark measures the built renderer), and the
 * CLI bundle when it no longer matches its sources: `cmdai serve` would otherwise run the
 * TypeScript sources through tsx, seconds slower to start than what users get.
 */
export function ensureBuilt(): void {
  if (!freshBundle(resolveAppRoot()).entry) {
    console.log('CLI bundle out of date: building it...')
    const cli = spawnSync(process.execPath, ['scripts/build-cli.mjs'], {
      cwd: resolveAppRoot(),
      stdio: 'inherit',
    })
    if (cli.status !== 0) throw new Error('the CLI bundle did not build')
  }
  if (existsSync(join(resolveOutDir(), 'renderer', 'index.html'))) return
  console.log('No build yet: electron-vite build...')
  const result = spawnSync('npx', ['electron-vite', 'build'], {
    cwd: resolveAppRoot(),
    stdio: 'inherit',
  })
  if (result.status !== 0) throw new Error('electron-vite build failed')
}

export function makeRoot(prefix: string): { root: string; home: string; dataDir: string } {
  const root = mkdtempSync(join(tmpdir(), prefix))
  const home = join(root, 'home')
  mkdirSync(home)
  writeFileSync(join(home, '.bashrc'), 'PS1="\\u@cmdai:\\w\\$ "\n')
  return { root, home, dataDir: join(root, 'data') }
}

export async function startServe(
  home: string,
  dataDir: string,
  env: Record<string, string> = {},
): Promise<Served> {
  const startedAt = performance.now()
  // BENCH_SERVE_NODE_ARGS: extra Node flags for the server (e.g. --cpu-prof to see where its
  // start-up time goes).
  const nodeArgs = (process.env.BENCH_SERVE_NODE_ARGS ?? '').split(/\s+/).filter(Boolean)
  const child = spawn(process.execPath, [...nodeArgs, 'bin/cmdai.mjs', 'serve', '--port', '0'], {
    cwd: resolveAppRoot(),
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      SHELL: '/bin/bash',
      LANG: 'C.UTF-8',
      CMDAI_DATA_DIR: dataDir,
      ...(process.env.CMDAI_OUT_DIR ? { CMDAI_OUT_DIR: process.env.CMDAI_OUT_DIR } : {}),
      ...(process.env.CMDAI_CLI ? { CMDAI_CLI: process.env.CMDAI_CLI } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${output}`)), 120_000)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const match = /running at (http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => reject(new Error(`serve exited ${code}:\n${output}`)))
  })
  return { child, url, dataDir, home, listeningMs: performance.now() - startedAt, startedAt }
}

export async function stopServe(served: Served): Promise<void> {
  if (served.child.exitCode !== null) return
  const exited = new Promise((resolve) => served.child.once('exit', resolve))
  served.child.kill('SIGTERM')
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 60_000))])
  if (served.child.exitCode === null) served.child.kill('SIGKILL')
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CMDAI_CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  })
}

/** Opens the app; `gpu: false` keeps xterm's DOM renderer so its text can be read. */
export async function openPage(browser: Browser, url: string, gpu = false): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 680 } })
  const page = await context.newPage()
  if (!gpu) {
    await page.addInitScript(() => localStorage.setItem('cmdai:terminal.gpuAcceleration', 'off'))
  }
  await page.goto(url, { timeout: 180_000 })
  return page
}

export function screenText(page: Page): Promise<string> {
  return page
    .locator('.terminal-pane:not([hidden]) .xterm-rows')
    .innerText()
    .catch(() => '')
}

/** Polls until `probe` holds, every `everyMs`; returns the time it took. */
export async function until(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs = 600_000,
  everyMs = 50,
): Promise<number> {
  const start = performance.now()
  while (!(await probe())) {
    if (performance.now() - start > timeoutMs) throw new Error(`Timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
  return performance.now() - start
}

/** Resident memory of a process, in bytes (Linux). */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024
}

/** Samples a process's memory every 100 ms until stopped; returns the peak seen. */
export function sampleRss(pid: number): { stop(): number } {
  let peak = rssOf(pid)
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssOf(pid))
    } catch {
      // exited
    }
  }, 100)
  return {
    stop() {
      clearInterval(timer)
      return peak
    },
  }
}

export function removeRoot(root: string): void {
  rmSync(root, { recursive: true, force: true })
}

export const MB = 1e6
export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits
