import type { Rule } from '../engine'
import { cloudRules } from './cloud'
import { containerRules } from './containers'
import { dbRules } from './db'
import { fileRules } from './files'
import { gitRules } from './git'
import { interpreterRules } from './interpreters'
import { networkRules } from './network'
import { packageRules } from './packages'
import { genericCmdlet, powershellRules } from './powershell'
import { systemRules } from './system'
import { wrapperRules } from './wrappers'

/** Every rule, keyed by program name (PowerShell cmdlets in lower case). */
export const RULES = new Map<string, Rule>(
  Object.entries({
    ...packageRules,
    ...fileRules,
    ...systemRules,
    ...networkRules,
    ...gitRules,
    ...containerRules,
    ...cloudRules,
    ...dbRules,
    ...interpreterRules,
    ...powershellRules,
    ...wrapperRules,
  }),
)

/** Finds the rule for a program name: exact, then without a version or type suffix (mkfs.ext4). */
export function ruleFor(name: string, powershell: boolean): Rule | undefined {
  const exact = RULES.get(name) ?? RULES.get(name.toLowerCase())
  if (exact) return exact
  const dot = name.indexOf('.')
  if (dot > 0) {
    const base = RULES.get(name.slice(0, dot))
    if (base) return base
  }
  const versioned = /^([a-z]+?)[\d.]+$/.exec(name)
  if (versioned) return RULES.get(versioned[1]!)
  if (powershell && /^[a-z]+-[a-z]/.test(name)) return genericCmdlet
  return undefined
}
