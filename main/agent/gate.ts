import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { SafetyLevel, ShellDialect, Verdict } from '../../contract/safety'
import { analyzeCommand, initSafety } from '../safety/analyze'
import type { Policy } from '../safety/policy'
import { policyPath, readPolicyFile } from '../safety/policy-file'

/** The user's safety level and policy, as every cmdai surface applies them. */
export interface GateOptions {
  level?: SafetyLevel
  policy?: Policy
}

const LEVELS: readonly string[] = ['strict', 'moderate', 'permissive']

/**
 * Reads the safety level (settings.json) and the policy (policy.json) of a data dir. A policy that
 * cannot be read is an error (the caller fails closed); a settings file without a valid level
 * leaves the default.
 */
export function gateOptions(dataDir: string): GateOptions {
  const options: GateOptions = {}
  try {
    const raw = JSON.parse(readFileSync(join(dataDir, 'settings.json'), 'utf8')) as {
      safety?: { level?: unknown }
    }
    const level = raw?.safety?.level
    if (typeof level === 'string' && LEVELS.includes(level)) options.level = level as SafetyLevel
  } catch {
    // No settings yet, or unreadable: the default level applies.
  }
  const file = policyPath(dataDir)
  if (existsSync(file)) options.policy = readPolicyFile(file)
  return options
}

/** Judges a command an agent wants to run, with the user's level and policy. */
export async function judge(
  command: string,
  shell: ShellDialect,
  dataDir: string,
): Promise<Verdict> {
  await initSafety()
  return analyzeCommand(command, { shell, ...gateOptions(dataDir) })
}
