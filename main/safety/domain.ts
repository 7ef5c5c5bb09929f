import type { Domain, DomainDeps } from '../domain'
import { analyzeCommand, explainCommand, initSafety } from './analyze'
import { hostPlatform, loadSafetyConfig } from './config'
import { redactSecrets } from './secrets'

/** Registers the safety requests: check (rate + policy), explain (breakdown), redact. */
export function createSafetyDomain(deps: DomainDeps): Domain {
  const ready = initSafety()
  // Keep an unhandled rejection from crashing start-up; each request awaits `ready` and reports it.
  ready.catch(() => {})
  // The terminals run on this machine: rate PowerShell by this OS unless the caller says otherwise.
  const platform = hostPlatform()

  deps.router.handle('safety:check', async (args) => {
    await ready
    // The same level (settings.json) and policy (policy.json) as `cmdai check` and the agent gate.
    const config = loadSafetyConfig(deps.dataDir)
    return analyzeCommand(args.command, {
      shell: args.shell,
      level: args.level ?? config.level,
      role: args.role,
      policy: config.policy,
      platform: args.platform ?? platform,
    })
  })
  deps.router.handle('safety:explain', async (args) => {
    await ready
    return explainCommand(args.command, args.shell, args.platform ?? platform)
  })
  deps.router.handle('safety:redact', (args) => redactSecrets(args.text))

  return { name: 'safety', dispose() {} }
}
