import type { Rule } from '../rule'
import { cloudRules } from './cloud'
import { containerRules } from './containers'
import { dbRules } from './db'
import { exposureRules } from './exposure'
import { fleetRules } from './fleet'
import { fileRules } from './files'
import { gitRules } from './git'
import { interpreterRules } from './interpreters'
import { networkRules } from './network'
import { packageRules } from './packages'
import { genericCmdlet, powershellRules } from './powershell'
import { systemRules } from './system'
import { windowsRules } from './windows'
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
    ...exposureRules,
    ...fleetRules,
    ...windowsRules,
  }),
)

/** Finds the rule for a program name: exact, then without a version or type suffix (mkfs.ext4). */
export function ruleFor(name: string, powershell: boolean): Rule | undefined {
  const exact = RULES.get(name) ?? RULES.get(name.toLowerCase())
  if (exact) return exact
  const dot = name.indexOf('.')
  // mkfs.ext4 is mkfs; install.sh is a script, not `install`.
  if (
    dot > 0 &&
    !/\.(sh|bash|zsh|fish|py|js|mjs|cjs|ts|rb|pl|php|ps1|psm1|bat|cmd|command|lua|r)$/i.test(name)
  ) {
    const base = RULES.get(name.slice(0, dot))
    if (base) return base
  }
  const versioned = /^([a-z]+?)[\d.]+$/.exec(name)
  if (versioned) return RULES.get(versioned[1]!)
  if (powershell && /^[a-z]+-[a-z]/.test(name)) return genericCmdlet
  return undefined
}
