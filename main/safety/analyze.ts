import type {
  CommandBreakdown,
  Platform,
  PolicyAction,
  RiskReason,
  SafetyLevel,
  ShellDialect,
  Verdict,
} from '../../contract/safety'
import { initBashParser, isBashParserReady } from './bash-parser'
import { Engine, highestRisk, rootContext } from './engine'
import { isFailClosed } from './limits'
import { decideAction, type Policy } from './policy'
import { RISK_ORDER } from './types'

export interface AnalyzeOptions {
  shell?: ShellDialect
  level?: SafetyLevel
  policy?: Policy
  role?: string
  /**
   * The OS the shell runs on: PowerShell's `rm` is Remove-Item on Windows and /bin/rm elsewhere.
   * `unknown` (the default) rates by the worse reading.
   */
  platform?: Platform
}

/** Loads the shell parser (WASM). Call once before {@link analyzeCommand}; later calls are free. */
export function initSafety(): Promise<void> {
  return initBashParser()
}

export function isSafetyReady(): boolean {
  return isBashParserReady()
}

function run(command: string, shell: ShellDialect, platform: Platform): Engine {
  if (!isBashParserReady()) {
    throw new Error('The safety engine is not initialised: await initSafety() first')
  }
  const engine = new Engine(command)
  try {
    engine.runScript(command, shell, rootContext(shell, platform))
  } catch (err) {
    // Fail closed: an engine bug must never turn into a runnable verdict.
    const message = err instanceof Error ? err.message : String(err)
    engine.findings.push({
      ruleId: 'engine.error',
      risk: 'critical',
      message: `The safety engine could not analyse this command (${message.slice(0, 80).replace(/\s+/g, ' ')}); blocked to be safe`,
      span: null,
    })
  }
  return engine
}

/**
 * Rates a command and maps the rating to an action. Synchronous after {@link initSafety}, and well
 * under a millisecond for typical commands, so the UI can call it on every keystroke.
 */
export function analyzeCommand(command: string, options: AnalyzeOptions = {}): Verdict {
  const shell = options.shell ?? 'bash'
  const engine = run(command, shell, options.platform ?? 'unknown')
  const reasons = dedupe(engine.findings)
  const risk = highestRisk(reasons)
  const tags = [...engine.tags].sort()
  const decided = decideAction({
    risk,
    reasons,
    parts: engine.parts,
    tags,
    level: options.level,
    policy: options.policy,
    role: options.role,
  })
  const { decision } = decided
  let action: PolicyAction = decided.action
  // Fail closed whatever the level or policy: what is beyond the engine's bounds is blocked, and
  // what it could not parse is never run without a confirmation.
  if (reasons.some((r) => isFailClosed(r.ruleId))) action = 'block'
  else if (action === 'allow' && reasons.some((r) => r.ruleId === 'parse.error')) action = 'confirm'
  const verdict: Verdict = {
    command,
    shell,
    risk,
    action,
    reasons,
    policy: decision,
    programs: [...engine.programs],
    tags,
  }
  if (engine.parseError) verdict.parseError = engine.parseError
  return verdict
}

/** The structural breakdown of a command from the parse: each program, its flags and targets. */
export function explainCommand(
  command: string,
  shell: ShellDialect = 'bash',
  platform: Platform = 'unknown',
): CommandBreakdown {
  const engine = run(command, shell, platform)
  const parts = [...engine.parts].sort((a, b) => a.span.start - b.span.start)
  const breakdown: CommandBreakdown = { command, shell, parts }
  if (engine.parseError) breakdown.parseError = engine.parseError
  return breakdown
}

function dedupe(findings: RiskReason[]): RiskReason[] {
  const seen = new Set<string>()
  const out: RiskReason[] = []
  for (const f of findings) {
    // One reason per bound, and per finding however many levels or places repeat it.
    const key = isFailClosed(f.ruleId) ? f.ruleId : `${f.ruleId}|${f.message}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push(f)
  }
  return out.sort(
    (a, b) =>
      RISK_ORDER[b.risk] - RISK_ORDER[a.risk] || (a.span?.start ?? -1) - (b.span?.start ?? -1),
  )
}
