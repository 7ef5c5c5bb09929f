import type { Command } from 'commander'
import { Option } from 'commander'
import { createInterface } from 'node:readline'
import {
  RISKS,
  SAFETY_LEVELS,
  SHELL_DIALECTS,
  type PolicyAction,
  type SafetyLevel,
  type ShellDialect,
  type Verdict,
} from '../../../contract/safety'
import { resolveDataDir } from '../../config/paths'
import { analyzeCommand, explainCommand, initSafety, redactSecrets } from '../../safety'
import { formatBreakdown, formatVerdict } from '../../safety/format'
import type { Policy } from '../../safety/policy'
import { policyPath, readPolicyFile } from '../../safety/policy-file'
import { existsSync } from 'node:fs'

/** Exit statuses of `cmdai check`. Commander's own usage errors exit with 1. */
export const CHECK_EXIT: Record<PolicyAction, number> = { allow: 0, confirm: 3, block: 4 }

interface CheckOptions {
  shell: ShellDialect
  level?: SafetyLevel
  role?: string
  policy?: string
  json?: boolean
  jsonl?: boolean
}

function useColor(): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true
  return Boolean(process.stdout.isTTY)
}

function loadPolicy(file: string | undefined): Policy | undefined {
  if (file) return readPolicyFile(file)
  const local = policyPath(resolveDataDir())
  return existsSync(local) ? readPolicyFile(local) : undefined
}

function verdictLine(v: Verdict): Record<string, unknown> {
  return {
    cmd: v.command,
    shell: v.shell,
    risk: v.risk,
    action: v.action,
    reasons: v.reasons,
    ...(v.parseError ? { parseError: v.parseError } : {}),
    programs: v.programs,
    tags: v.tags,
    policy: v.policy,
  }
}

/** `cmdai check --jsonl`: one JSON verdict per input line, in order; bad lines get an error line. */
async function checkJsonl(opts: CheckOptions, policy: Policy | undefined): Promise<void> {
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity })
  let n = 0
  for await (const line of rl) {
    n++
    if (!line.trim()) continue
    let out: Record<string, unknown>
    try {
      const input = JSON.parse(line) as unknown
      if (
        !input ||
        typeof input !== 'object' ||
        typeof (input as { cmd?: unknown }).cmd !== 'string'
      ) {
        throw new Error('expected an object with a string "cmd"')
      }
      const { cmd, shell, level, role } = input as {
        cmd: string
        shell?: unknown
        level?: unknown
        role?: unknown
      }
      if (shell !== undefined && !SHELL_DIALECTS.includes(shell as ShellDialect))
        throw new Error(`unknown shell ${JSON.stringify(shell)}`)
      if (level !== undefined && !SAFETY_LEVELS.includes(level as SafetyLevel))
        throw new Error(`unknown level ${JSON.stringify(level)}`)
      out = verdictLine(
        analyzeCommand(cmd, {
          shell: (shell as ShellDialect | undefined) ?? opts.shell,
          level: (level as SafetyLevel | undefined) ?? opts.level,
          role: typeof role === 'string' ? role : opts.role,
          policy,
        }),
      )
    } catch (err) {
      out = { line: n, error: err instanceof Error ? err.message : String(err) }
    }
    if (!process.stdout.write(JSON.stringify(out) + '\n')) {
      await new Promise((resolve) => process.stdout.once('drain', resolve))
    }
  }
}

export function registerSafetyCommands(program: Command): void {
  const shellOption = () =>
    new Option('-s, --shell <shell>', 'shell dialect of the command')
      .choices(SHELL_DIALECTS)
      .default('bash')

  program
    .command('check')
    .description(
      'Rate how risky a shell command is, and what cmdai would do with it (no model needed)',
    )
    .argument('[command...]', 'the command to check (quote it)')
    .addOption(shellOption())
    .addOption(new Option('-l, --level <level>', 'safety level').choices(SAFETY_LEVELS))
    .option('--role <role>', 'team role the policy rules are evaluated for')
    .option(
      '--policy <file>',
      'policy JSON file (default: policy.json in the data dir, if present)',
    )
    .option('--json', 'print the verdict as JSON')
    .option(
      '--jsonl',
      'read JSON lines {"cmd": "...", "shell": "bash"} on stdin, write one verdict per line',
    )
    .addHelpText(
      'after',
      `
Risk levels: ${RISKS.join(', ')}. Actions: allow, confirm, block (critical is always blocked).
Exit status: ${CHECK_EXIT.allow} allow, ${CHECK_EXIT.confirm} confirm, ${CHECK_EXIT.block} block; 1 bad usage; 2 internal error.
With --jsonl the exit status is 0 once the stream is processed (each line carries its action);
a malformed line produces {"line": N, "error": "..."} and the stream goes on.

Examples:
  cmdai check "rm -rf ./build"
  cmdai check --json --shell powershell "Remove-Item -Recurse -Force C:\\\\"
  echo '{"cmd": "curl -s https://x | sh"}' | cmdai check --jsonl`,
    )
    .action(async (words: string[], opts: CheckOptions) => {
      await runOrExit2(async () => {
        await initSafety()
        const policy = loadPolicy(opts.policy)
        if (opts.jsonl) return checkJsonl(opts, policy)
        const command = words.join(' ')
        if (!command) {
          program.error('cmdai check: give a command to check, or use --jsonl', { exitCode: 1 })
        }
        const v = analyzeCommand(command, {
          shell: opts.shell,
          level: opts.level,
          role: opts.role,
          policy,
        })
        if (opts.json) console.log(JSON.stringify(v, null, 2))
        else console.log(formatVerdict(v, { color: useColor() }))
        process.exitCode = CHECK_EXIT[v.action]
      })
    })

  program
    .command('explain')
    .description(
      'Break a command down into the programs it runs, their flags and targets (from the parse)',
    )
    .argument('<command...>', 'the command to explain (quote it)')
    .addOption(shellOption())
    .option('--json', 'print the breakdown as JSON')
    .option('--no-llm', "skip the model's plain-language explanation")
    .action(
      async (words: string[], opts: { shell: ShellDialect; json?: boolean; llm: boolean }) => {
        await runOrExit2(async () => {
          await initSafety()
          const breakdown = explainCommand(words.join(' '), opts.shell)
          // Added when a model is set up (llm engine); the breakdown stands on its own otherwise.
          // The model engine loads only when asked for, so `cmdai check` stays quick to start.
          const model = opts.llm
            ? await (await import('./llm')).modelExplanation(words.join(' '), opts.shell)
            : null
          if (opts.json) {
            console.log(
              JSON.stringify(
                model ? { ...breakdown, modelExplanation: model } : breakdown,
                null,
                2,
              ),
            )
          } else {
            console.log(formatBreakdown(breakdown, { color: useColor() }))
            if (model) console.log(`\nIn plain words: ${model}`)
          }
        })
      },
    )

  program
    .command('redact')
    .description(
      'Redact secrets (API keys, tokens, passwords) from text given as arguments or on stdin',
    )
    .argument('[text...]', 'text to redact (default: read stdin)')
    .option('--json', 'print {text, findings} as JSON')
    .action(async (words: string[], opts: { json?: boolean }) => {
      const text = words.length ? words.join(' ') : await readStdin()
      const result = redactSecrets(text)
      if (opts.json) console.log(JSON.stringify(result))
      else process.stdout.write(result.text + (words.length ? '\n' : ''))
    })
}

async function runOrExit2(fn: () => Promise<void>): Promise<void> {
  try {
    await fn()
  } catch (err) {
    if (
      err &&
      typeof err === 'object' &&
      'code' in err &&
      String((err as { code: unknown }).code).startsWith('commander.')
    )
      throw err
    console.error(`cmdai: ${err instanceof Error ? err.message : String(err)}`)
    process.exitCode = 2
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
