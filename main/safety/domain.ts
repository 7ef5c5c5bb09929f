import type { Domain, DomainDeps } from '../domain'
import { analyzeCommand, explainCommand, initSafety } from './analyze'
import { PolicyFile, policyPath } from './policy-file'
import { redactSecrets } from './secrets'

/** Registers the safety requests: check (rate + policy), explain (breakdown), redact. */
export function createSafetyDomain(deps: DomainDeps): Domain {
  const ready = initSafety()
  // Keep an unhandled rejection from crashing start-up; each request awaits `ready` and reports it.
  ready.catch(() => {})
  const policy = new PolicyFile(policyPath(deps.dataDir))

  deps.router.handle('safety:check', async (args) => {
    await ready
    return analyzeCommand(args.command, {
      shell: args.shell,
      level: args.level,
      role: args.role,
      policy: policy.get() ?? undefined,
    })
  })
  deps.router.handle('safety:explain', async (args) => {
    await ready
    return explainCommand(args.command, args.shell)
  })
  deps.router.handle('safety:redact', (args) => redactSecrets(args.text))

  return { name: 'safety', dispose() {} }
}
