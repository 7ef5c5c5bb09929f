import { test as base, expect, type Page } from '@playwright/test'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
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

/** Starts `cmdai serve` on a free port with its own data dir and a clean home directory. */
export async function startServe(extraEnv: Record<string, string> = {}): Promise<ServedApp> {
  const root = mkdtempSync(join(tmpdir(), 'cmdai-e2e-'))
  const home = join(root, 'home')
  const dataDir = join(root, 'data')
  mkdirSync(home)
  writeFileSync(join(home, '.bashrc'), 'PS1="\\u@cmdai:\\w\\$ "\n')
  const child = spawn(process.execPath, ['bin/cmdai.mjs', 'serve', '--port', '0'], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      SHELL: '/bin/bash',
      LANG: 'C.UTF-8',
      CMDAI_DATA_DIR: dataDir,
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

export async function stopServe(app: ServedApp): Promise<void> {
  const exited = new Promise((r) => app.process.once('exit', r))
  app.process.kill('SIGTERM')
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))])
  if (app.process.exitCode === null) app.process.kill('SIGKILL')
  rmSync(join(app.home, '..'), { recursive: true, force: true })
}

/** The visible text of the active terminal (xterm's DOM renderer, or its buffer via selection). */
export async function terminalText(page: Page): Promise<string> {
  const pane = page.locator('.terminal-pane:not([hidden])')
  return pane.locator('.xterm-rows').innerText()
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

export const test = base.extend<{ served: ServedApp; domRenderer: void }>({
  // xterm's WebGL canvas has no text to read; tests read the DOM renderer's rows instead. One
  // test opts out to check that WebGL is used by default.
  domRenderer: [
    async ({ page }, use) => {
      await page.addInitScript(() => localStorage.setItem('cmdai:terminal.gpuAcceleration', 'off'))
      await use()
    },
    { auto: true },
  ],
  // eslint-disable-next-line no-empty-pattern
  served: async ({}, use) => {
    const app = await startServe()
    await use(app)
    await stopServe(app)
  },
})

export { expect }
