import { homedir, platform } from 'node:os'
import type { Domain, DomainDeps } from '../domain'
import { defaultShell } from '../terminal/shells'

export function createAppDomain(deps: DomainDeps, version: string): Domain {
  deps.router.handle('app:info', () => ({
    name: 'cmdai',
    version,
    platform: platform(),
    host: deps.host === 'electron' ? 'electron' : 'browser',
    dataDir: deps.dataDir,
    homeDir: homedir(),
    defaultShell: defaultShell(deps.env),
  }))
  return { name: 'app', dispose() {} }
}
