import type { ShellDialect, Verdict } from '../../contract'

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

interface SafetyModule {
  initSafety?: () => Promise<void> | void
  analyzeCommand: (
    command: string,
    options?: { shell?: ShellDialect },
  ) => Verdict | Promise<Verdict>
  redactSecrets?: (text: string) => { text: string; findings: unknown[] }
  explainCommand?: (command: string, shell: ShellDialect) => unknown
}

let cached: Promise<SafetyPort> | null = null

/** The real safety engine, loaded once. */
export function loadSafetyPort(): Promise<SafetyPort> {
  cached ??= (async () => {
    // A variable specifier keeps this file compiling while main/safety/index.ts is being written.
    const specifier = '../safety/index'
    const mod = (await import(/* @vite-ignore */ specifier)) as SafetyModule
    await mod.initSafety?.()
    return {
      analyze: (command, shell) => mod.analyzeCommand(command, { shell }),
      redact: (text) => {
        if (!mod.redactSecrets) return { text, count: 0 }
        const result = mod.redactSecrets(text)
        return { text: result.text, count: result.findings.length }
      },
      explain: mod.explainCommand
        ? (command, shell) => mod.explainCommand!(command, shell)
        : undefined,
    }
  })()
  cached.catch(() => (cached = null))
  return cached
}

export function toShellDialect(shell: string | undefined): ShellDialect {
  const name = (shell ?? '').toLowerCase()
  if (name.includes('zsh')) return 'zsh'
  if (name.includes('fish')) return 'fish'
  if (name.includes('pwsh') || name.includes('powershell')) return 'powershell'
  if (name === 'sh' || name === 'dash') return 'sh'
  return 'bash'
}
