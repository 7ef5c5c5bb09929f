import { test as base, expect, type Page } from '@playwright/test'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

export interface ServedApp {
  url: string
  origin: string
  token: string
  home: string
  dataDir: string
  process: ChildProcess
}

/** Where screenshots of each journey are kept (also attached to the HTML report). */
export const ARTIFACTS = resolve('e2e/artifacts')

export interface ServeOptions {
  /** Start again on the data dir and home of an earlier run (a restart). */
  again?: ServedApp
  /** Arguments after `serve` (default `--port 0`; a restart passes none to keep its port). */
  args?: string[]
}

/** Starts `cmdai serve` on a free port with its own data dir and a clean home directory. */
export async function startServe(
  extraEnv: Record<string, string> = {},
  options: ServeOptions = {},
): Promise<ServedApp> {
  const root = options.again
    ? join(options.again.home, '..')
    : mkdtempSync(join(tmpdir(), 'cmdai-e2e-'))
  const home = join(root, 'home')
  const dataDir = join(root, 'data')
  if (!options.again) {
    mkdirSync(home)
    writeFileSync(join(home, '.bashrc'), 'PS1="\\u@cmdai:\\w\\$ "\n')
  }
  const args = options.args ?? ['--port', '0']
  const child = spawn(process.execPath, ['bin/cmdai.mjs', 'serve', ...args], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      SHELL: '/bin/bash',
      LANG: 'C.UTF-8',
      CMDAI_DATA_DIR: dataDir,
      // A build in its own folder (parallel test runs); see electron.vite.config.ts.
      ...(process.env.CMDAI_OUT_DIR ? { CMDAI_OUT_DIR: process.env.CMDAI_OUT_DIR } : {}),
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`cmdai serve did not start:\n${output}`)),
      60_000,
    )
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const match = /running at (http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolveUrl(match[1]!)
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', (code) => reject(new Error(`cmdai serve exited with ${code}:\n${output}`)))
  })
  const parsed = new URL(url)
  return {
    url,
    origin: parsed.origin,
    token: parsed.searchParams.get('token')!,
    home,
    dataDir,
    process: child,
    [Symbol.for('root')]: root,
  } as ServedApp
}

/** Stops `cmdai serve` (SIGTERM) and removes its folders unless `keep` (a restart follows). */
export async function stopServe(app: ServedApp, keep = false): Promise<void> {
  if (app.process.exitCode === null && app.process.signalCode === null) {
    const exited = new Promise((r) => app.process.once('exit', r))
    app.process.kill('SIGTERM')
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))])
    if (app.process.exitCode === null) app.process.kill('SIGKILL')
  }
  if (!keep) rmSync(join(app.home, '..'), { recursive: true, force: true })
}

/** The visible text of the active terminal (xterm's DOM renderer, or its buffer via selection). */
export async function terminalText(page: Page): Promise<string> {
  const pane = page.locator('.terminal-pane:not([hidden])')
  return pane.locator('.xterm-rows').innerText()
}

/**
 * The prompt is on screen and the history database has opened. Opening it (creating it on a first
 * run) runs on the server's main thread and stalls everything for seconds on a busy machine, so
 * journeys about typing in the terminal start after it.
 */
export async function terminalReady(page: Page): Promise<void> {
  await expect.poll(() => terminalText(page), { timeout: 90_000 }).toContain('@cmdai:')
  await expect(page.getByTestId('status-db')).toHaveText('history: ready', { timeout: 120_000 })
}

export async function typeInTerminal(page: Page, text: string): Promise<void> {
  const pane = page.locator('.terminal-pane:not([hidden])')
  await pane.locator('.xterm').click()
  await page.keyboard.type(text)
}

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true })
  const body = await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) })
  await base.info().attach(name, { body, contentType: 'image/png' })
}

/** `CMDAI_E2E_ELECTRON=1` runs the journeys in the desktop app (needs Electron's binary). */
export const ELECTRON = process.env.CMDAI_E2E_ELECTRON === '1'

export interface OpenedApp {
  page: Page
  home: string
  dataDir: string
}

async function disableGpu(page: Page): Promise<void> {
  await page.addInitScript(() => localStorage.setItem('cmdai:terminal.gpuAcceleration', 'off'))
}

export const test = base.extend<{
  served: ServedApp
  gpu: boolean
  serveEnv: Record<string, string>
  app: OpenedApp
}>({
  /** Extra environment for the app (e.g. CMDAI_MODEL pointing at a fixture model). */
  serveEnv: [{}, { option: true }],
  // xterm's WebGL canvas has no text to read, so journeys use the DOM renderer; one test sets
  // `gpu: true` to check that WebGL is the default.
  gpu: false,
  // eslint-disable-next-line no-empty-pattern
  served: async ({}, use) => {
    const app = await startServe()
    await use(app)
    await stopServe(app)
  },
  app: async ({ page, gpu, serveEnv }, use) => {
    if (!ELECTRON) {
      const served = await startServe(serveEnv)
      if (!gpu) await disableGpu(page)
      await page.goto(served.url)
      await use({ page, home: served.home, dataDir: served.dataDir })
      await stopServe(served)
      return
    }
    // Desktop app: Playwright's Electron launcher on the built main bundle.
    const { _electron } = await import('@playwright/test')
    const root = mkdtempSync(join(tmpdir(), 'cmdai-e2e-electron-'))
    const home = join(root, 'home')
    const dataDir = join(root, 'data')
    mkdirSync(home)
    writeFileSync(join(home, '.bashrc'), 'PS1="\\u@cmdai:\\w\\$ "\n')
    const electronApp = await _electron.launch({
      args: ['out/main/index.js'],
      env: {
        ...process.env,
        HOME: home,
        SHELL: '/bin/bash',
        CMDAI_DATA_DIR: dataDir,
        ...serveEnv,
      } as Record<string, string>,
    })
    const window = await electronApp.firstWindow()
    if (!gpu) {
      await window.evaluate(() => localStorage.setItem('cmdai:terminal.gpuAcceleration', 'off'))
      await window.reload()
    }
    await use({ page: window, home, dataDir })
    await electronApp.close()
    rmSync(root, { recursive: true, force: true })
  },
})

export { expect }

const AXE_PATH = createRequire(import.meta.url).resolve('axe-core/axe.min.js')

/**
 * WCAG 2.1 A/AA problems axe-core finds (serious and critical), evaluated in the page (so pages
 * whose CSP allows no injected script tag, like the admin console, can still be checked).
 */
export async function axeProblems(page: Page): Promise<string[]> {
  await page.evaluate(readFileSync(AXE_PATH, 'utf8'))
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run(
            ctx: unknown,
            opts: unknown,
          ): Promise<{
            violations: Array<{
              id: string
              impact: string | null
              nodes: Array<{ target: string[] }>
            }>
          }>
        }
      }
    ).axe
    return (
      await axe.run(document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      })
    ).violations
  })
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`)
}
