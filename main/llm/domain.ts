import type { Domain, DomainDeps } from '../domain'

/** Registers the llm requests. Filled in by the llm issue. */
export function createLlmDomain(deps: DomainDeps): Domain {
  void deps
  return { name: 'llm', dispose() {} }
}
