import { availableParallelism, homedir, platform, totalmem } from 'node:os'
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
    totalMemoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    cpuCount: availableParallelism(),
  }))
  return { name: 'app', dispose() {} }
}
