import { InvalidArgumentError, type Command } from 'commander'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import {
  readPackageVersion,
  resolveAppRoot,
  resolveDataDir,
  resolveOutDir,
} from '../../config/paths'
import { loadServeIdentity, rememberPort } from '../../server/serve-identity'
import { ensurePrivateDir } from '../../config/private-fs'
import { assertDataDirFree } from '../../history/lock'
import { rendererIndex } from '../../server/static-files'

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'Run the cmdai app in a browser: the same UI and services, on 127.0.0.1 only,\n' +
        'behind a token that is part of the printed URL. The token and port are kept in the\n' +
        'data directory (serve.json), so the URL and open pages keep working after a restart.',
    )
    .option(
      '-p, --port <port>',
      "port to listen on (default: the last run's port if free, else any; 0: any)",
      parsePort,
    )
    .option('--new-token', 'replace the saved token: old URLs and open pages stop working')
    .option('--build', 'rebuild the renderer before serving')
    .action(async (options: { port?: number; build?: boolean; newToken?: boolean }) => {
      const dataDir = resolveDataDir()
      ensurePrivateDir(dataDir)
      // A second serve (or the app) on this data dir refuses here, naming the first, before it
      // builds anything or touches the saved token; createServices then takes the lock for good.
      assertDataDirFree(dataDir)
      const staticDir = join(resolveOutDir(), 'renderer')
      if (options.build || !existsSync(rendererIndex(staticDir))) buildRenderer()
      // Loaded here, not at the top: every other subcommand starts faster without the services.
      const [{ createServices }, { startBrowserServer }] = await Promise.all([
        import('../../services'),
        import('../../server/browser-server'),
      ])
      const identity = loadServeIdentity(dataDir, options.newToken)
      const services = createServices({ dataDir, host: 'browser', version: readPackageVersion() })
      const listen = (port: number) =>
        startBrowserServer({ services, staticDir, port, token: identity.token })
      let server: Awaited<ReturnType<typeof listen>>
      if (options.port !== undefined) server = await listen(options.port)
      else {
        // The last run's address, so that bookmarks and open pages find us again.
        server = await listen(identity.port ?? 0).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'EADDRINUSE') throw err
          console.log(`Port ${identity.port} is in use; open pages need the new URL below.`)
          return listen(0)
        })
      }
      rememberPort(dataDir, identity, server.port)
      console.log(`cmdai is running at ${server.url}`)
      console.log(`Data directory: ${dataDir}. Press Ctrl+C to stop.`)
      let stopping = false
      // Stopping ends every shell's whole session (jobs included) first, then closes the rest
      // (the database may take a while if it is still being created). A second signal does
      // not wait.
      const stop = async () => {
        if (stopping) {
          console.log('Stopping without waiting for the database to close.')
          process.exit(130)
        }
        stopping = true
        await server.close()
        await services.dispose()
        process.exit(0)
      }
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
        process.on(signal, () => void stop())
      }
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
