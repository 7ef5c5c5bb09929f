import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

/**
 * Where cmdai keeps its database, models, libraries and settings. `CMDAI_DATA_DIR` wins, then the
 * platform's usual place. Electron's `app.getPath('userData')` is not used so that the app, the
 * CLI and browser mode all agree without importing Electron.
 */
export function resolveDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CMDAI_DATA_DIR) return resolve(env.CMDAI_DATA_DIR)
  const home = homedir()
  if (process.platform === 'darwin') return join(home, 'Library', 'Application Support', 'cmdai')
  if (process.platform === 'win32')
    return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'cmdai')
  return join(env.XDG_DATA_HOME ?? join(home, '.local', 'share'), 'cmdai')
}

/** The repository (or installed package) root, from which `resources/` and `out/` are found. */
export function resolveAppRoot(): string {
  return resolve(import.meta.dirname ?? '.', '..', '..')
}

/**
 * Where `electron-vite build` writes the app (`out/` in the checkout). `CMDAI_OUT_DIR` moves it,
 * so that several builds (parallel test runs, a developer's scratch build) never overwrite the
 * one another process is serving.
 */
export function resolveOutDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(resolveAppRoot(), env.CMDAI_OUT_DIR || 'out')
}

/** The app's version from package.json (the CLI and browser mode do not have Electron's). */
export function readPackageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(resolveAppRoot(), 'package.json'), 'utf8')) as {
    version?: string
  }
  return pkg.version ?? '0.0.0'
}
