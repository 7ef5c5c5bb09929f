import type { Domain, DomainDeps } from '../domain'

/** Registers the history requests. Filled in by the history issue. */
export function createHistoryDomain(deps: DomainDeps): Domain {
  void deps
  return { name: 'history', dispose() {} }
}
