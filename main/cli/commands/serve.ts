import { InvalidArgumentError, type Command } from 'commander'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import {
  readPackageVersion,
  resolveAppRoot,
  resolveDataDir,
  resolveOutDir,
} from '../../config/paths'
import { rendererIndex } from '../../server/static-files'

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'Run the cmdai app in a browser: the same UI and services, on 127.0.0.1 only,\n' +
        'behind a per-launch token that is part of the printed URL.',
    )
    .option('-p, --port <port>', 'port to listen on (default: any free port)', parsePort, 0)
    .option('--build', 'rebuild the renderer before serving')
    .action(async (options: { port: number; build?: boolean }) => {
      const staticDir = join(resolveOutDir(), 'renderer')
      if (options.build || !existsSync(rendererIndex(staticDir))) buildRenderer()
      const dataDir = resolveDataDir()
      mkdirSync(dataDir, { recursive: true })
      // Loaded here, not at the top: every other subcommand starts faster without the services.
      const [{ createServices }, { startBrowserServer }] = await Promise.all([
        import('../../services'),
        import('../../server/browser-server'),
      ])
      const services = createServices({ dataDir, host: 'browser', version: readPackageVersion() })
      const server = await startBrowserServer({ services, staticDir, port: options.port })
      console.log(`cmdai is running at ${server.url}`)
      console.log(`Data directory: ${dataDir}. Press Ctrl+C to stop.`)
      let stopping = false
      const stop = async () => {
        if (stopping) return
        stopping = true
        await server.close()
        await services.dispose()
        process.exit(0)
      }
      process.on('SIGINT', () => void stop())
      process.on('SIGTERM', () => void stop())
    })
}

/** A port number 0-65535 written in digits (0: any free port); '' or '8o80' are not ports. */
export function parsePort(value: string): number {
  const port = /^\d{1,5}$/.test(value.trim()) ? Number(value.trim()) : Number.NaN
  if (!(port >= 0 && port <= 65535))
    throw new InvalidArgumentError(
      `Invalid port: ${JSON.stringify(value)} (a number from 0 to 65535; 0 picks a free one)`,
    )
  return port
}

function buildRenderer(): void {
  console.log('Building the app (electron-vite build)...')
  const require = createRequire(import.meta.url)
  const bin = join(require.resolve('electron-vite/package.json'), '..', 'bin', 'electron-vite.js')
  const result = spawnSync(process.execPath, [bin, 'build'], {
    cwd: resolveAppRoot(),
    stdio: 'inherit',
  })
  if (result.status !== 0) throw new Error('Building the renderer failed; see the output above')
}
