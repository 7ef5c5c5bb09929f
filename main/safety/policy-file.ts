import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { CmdaiError } from '../../contract/errors'
import { parsePolicy, type Policy } from './policy'

/** Where the local (user or synced team) policy lives in the data directory. */
export function policyPath(dataDir: string): string {
  return join(dataDir, 'policy.json')
}

/** Reads and validates a policy file; a broken policy is an error, never silently ignored. */
export function readPolicyFile(file: string): Policy {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new CmdaiError('invalid_input', `Cannot read policy ${file}: ${(err as Error).message}`)
  }
  const parsed = (() => {
    try {
      return parsePolicy(raw)
    } catch (err) {
      const issues = (err as { issues?: Array<{ path: PropertyKey[]; message: string }> }).issues
      const detail = issues
        ?.slice(0, 3)
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ')
      throw new CmdaiError('invalid_input', `Invalid policy ${file}: ${detail ?? String(err)}`)
    }
  })()
  return parsed
}

/** Caches the policy in the data dir, re-reading it when the file changes; null when absent. */
export class PolicyFile {
  private cached: { mtimeMs: number; policy: Policy } | null = null

  constructor(private readonly file: string) {}

  get(): Policy | null {
    let mtimeMs: number
    try {
      mtimeMs = statSync(this.file).mtimeMs
    } catch {
      this.cached = null
      return null
    }
    if (this.cached?.mtimeMs === mtimeMs) return this.cached.policy
    const policy = readPolicyFile(this.file)
    this.cached = { mtimeMs, policy }
    return policy
  }
}
