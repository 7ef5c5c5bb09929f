import type { Domain, DomainDeps } from '../domain'

/** Registers the safety requests. Filled in by the safety issue. */
export function createSafetyDomain(deps: DomainDeps): Domain {
  void deps
  return { name: 'safety', dispose() {} }
}
