import type { ShellDialect, Verdict } from '../../contract'
import { analyzeCommand, explainCommand, initSafety, redactSecrets } from '../safety/index'
import { PolicyFile, policyPath } from '../safety/policy-file'
import { readSafetyLevel } from './settings'

/**
 * What the llm engine needs from the safety engine (main/safety). Injected, so the engine never
 * runs its own checks and tests can see exactly what was checked.
 */
export interface SafetyPort {
  analyze(command: string, shell: ShellDialect): Promise<Verdict> | Verdict
  redact(text: string): { text: string; count: number }
  /** The structural breakdown, when the safety engine offers one. */
  explain?(command: string, shell: ShellDialect): unknown
}

/**
 * The real safety engine, with the same level (settings.json `safety.level`) and team policy
 * (`<dataDir>`'s policy file) that the safety domain applies to commands typed by hand.
 */
export async function loadSafetyPort(dataDir?: string): Promise<SafetyPort> {
  await initSafety()
  const policy = dataDir ? new PolicyFile(policyPath(dataDir)) : null
  return {
    analyze: (command, shell) =>
      analyzeCommand(command, {
        shell,
        level: dataDir ? readSafetyLevel(dataDir) : undefined,
        policy: policy?.get() ?? undefined,
      }),
    redact: (text) => {
      const result = redactSecrets(text)
      return { text: result.text, count: result.findings.length }
    },
    explain: (command, shell) => explainCommand(command, shell),
  }
}

export function toShellDialect(shell: string | undefined): ShellDialect {
  const name = (shell ?? '').toLowerCase()
  if (name.includes('zsh')) return 'zsh'
  if (name.includes('fish')) return 'fish'
  if (name.includes('pwsh') || name.includes('powershell')) return 'powershell'
  if (name === 'sh' || name === 'dash') return 'sh'
  return 'bash'
}
