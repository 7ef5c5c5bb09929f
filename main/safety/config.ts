import type { Platform, SafetyLevel } from '../../contract/safety'
import { SettingsStore } from '../settings/settings-store'
import type { Policy } from './policy'
import { PolicyFile, policyPath } from './policy-file'

/**
 * The safety settings every caller applies — the app, `cmdai check`, the agent gate: the level
 * from settings.json (read through main/settings, which owns that file) and the policy from
 * policy.json in the same data directory. One reader, so a level set in the app is the level
 * the CLI and the agent hooks use.
 */
export interface SafetyConfig {
  level: SafetyLevel
  policy: Policy | undefined
  /** Set when settings.json could not be read: the level then falls back to strict. */
  warning?: string
}

const policies = new Map<string, PolicyFile>()

/** Reads the level and the policy of a data directory (the policy cached until it changes). */
export function loadSafetyConfig(dataDir: string): SafetyConfig {
  let level: SafetyLevel
  let warning: string | undefined
  try {
    level = new SettingsStore(dataDir).read().safety.level
  } catch (err) {
    // Fail closed: a settings file we cannot read must not loosen anything.
    level = 'strict'
    warning = `${err instanceof Error ? err.message : String(err)}; using the strict level`
  }
  const file = policyPath(dataDir)
  let cached = policies.get(file)
  if (!cached) {
    cached = new PolicyFile(file)
    policies.set(file, cached)
  }
  // A broken policy is an error (PolicyFile throws), never silently ignored.
  const policy = cached.get() ?? undefined
  return warning ? { level, policy, warning } : { level, policy }
}

/** The OS this process runs on, as the engine names it. */
export function hostPlatform(platform: NodeJS.Platform = process.platform): Platform {
  if (platform === 'linux') return 'linux'
  if (platform === 'darwin') return 'macos'
  if (platform === 'win32') return 'windows'
  return 'unknown'
}
