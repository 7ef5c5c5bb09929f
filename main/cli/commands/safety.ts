import type { Command } from 'commander'
import { Option } from 'commander'
import { createInterface } from 'node:readline'
import { showControls } from '../../../contract/display'
import {
  PLATFORMS,
  RISKS,
  SAFETY_LEVELS,
  SHELL_DIALECTS,
  type Platform,
  type PolicyAction,
  type SafetyLevel,
  type ShellDialect,
  type Verdict,
} from '../../../contract/safety'
import { resolveDataDir } from '../../config/paths'
import { analyzeCommand, explainCommand, initSafety, redactSecrets } from '../../safety'
import { hostPlatform, loadSafetyConfig } from '../../safety/config'
import { formatBreakdown, formatVerdict } from '../../safety/format'
import type { Policy } from '../../safety/policy'
import { readPolicyFile } from '../../safety/policy-file'

/** Exit statuses of `cmdai check`. Commander's own usage errors exit with 1. */
export const CHECK_EXIT: Record<PolicyAction, number> = { allow: 0, confirm: 3, block: 4 }

interface CheckOptions {
  shell: ShellDialect
  level?: SafetyLevel
  role?: string
  policy?: string
  platform: Platform
  json?: boolean
  jsonl?: boolean
}

function useColor(): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true
  return Boolean(process.stdout.isTTY)
}

/** A usage error: `cmdai check: …` on stderr, exit status 1 (through commander). */
class UsageError extends Error {}

/**
 * The level and policy the check applies: the same settings.json level and policy.json as the
 * app (one reader, main/safety/config), unless `--level` / `--policy` say otherwise.
 */
function settingsFor(
  opts: CheckOptions,
  policyFile: Policy | undefined,
): { level: SafetyLevel; policy: Policy | undefined } {
  const config = loadSafetyConfig(resolveDataDir())
  if (config.warning) console.error(`cmdai: ${showControls(config.warning)}`)
  return { level: opts.level ?? config.level, policy: policyFile ?? config.policy }
}

/** `--policy FILE`: a file the user named that cannot be read is a usage error. */
function policyOption(file: string | undefined): Policy | undefined {
  if (file === undefined) return undefined
  try {
    return readPolicyFile(file)
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err))
  }
}

/** The machine-readable verdict: `command` names the command, in --json and --jsonl alike. */
function verdictJson(v: Verdict): Record<string, unknown> {
  return {
    command: v.command,
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
async function checkJsonl(
  opts: CheckOptions,
  settings: { level: SafetyLevel; policy: Policy | undefined },
): Promise<void> {
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity })
  let n = 0
  for await (const line of rl) {
    n++
    if (!line.trim()) continue
    let out: Record<string, unknown>
    try {
      const input = JSON.parse(line) as unknown
      if (!input || typeof input !== 'object' || Array.isArray(input))
        throw new Error('expected an object with a string "command"')
      const fields = input as Record<string, unknown>
      // `command`, as in the output; `cmd` is still read for input written for older versions.
      const command = fields.command ?? fields.cmd
      if (typeof command !== 'string') throw new Error('expected an object with a string "command"')
      const { shell, level, role, platform } = fields
      if (shell !== undefined && !SHELL_DIALECTS.includes(shell as ShellDialect))
        throw new Error(`unknown shell ${JSON.stringify(shell)}`)
      if (level !== undefined && !SAFETY_LEVELS.includes(level as SafetyLevel))
        throw new Error(`unknown level ${JSON.stringify(level)}`)
      if (platform !== undefined && !PLATFORMS.includes(platform as Platform))
        throw new Error(`unknown platform ${JSON.stringify(platform)}`)
      out = verdictJson(
        analyzeCommand(command, {
          shell: (shell as ShellDialect | undefined) ?? opts.shell,
          level: (level as SafetyLevel | undefined) ?? settings.level,
          role: typeof role === 'string' ? role : opts.role,
          policy: settings.policy,
          platform: (platform as Platform | undefined) ?? opts.platform,
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
  const platformOption = () =>
    new Option('--platform <os>', 'OS the shell runs on (PowerShell `rm` differs by OS)')
      .choices(PLATFORMS)
      .default(hostPlatform())

  const check = program
    .command('check')
    .description(
      'Rate how risky a shell command is, and what cmdai would do with it (no model needed)',
    )
    .argument('[command...]', 'the command to check (quote it)')
    .addOption(shellOption())
    .addOption(
      new Option(
        '-l, --level <level>',
        'safety level (default: the level in settings.json, as in the app)',
      ).choices(SAFETY_LEVELS),
    )
    .option('--role <role>', 'team role the policy rules are evaluated for')
    .option(
      '--policy <file>',
      'policy JSON file (default: policy.json in the data dir, if present)',
    )
    .addOption(platformOption())
    .option('--json', 'print the verdict as JSON')
    .option(
      '--jsonl',
      'read JSON lines {"command": "...", "shell": "bash"} on stdin, write one verdict per line',
    )
    .addHelpText(
      'after',
      `
Risk levels: ${RISKS.join(', ')}. Actions: allow, confirm, block (critical is always blocked).
Exit status: ${CHECK_EXIT.allow} allow, ${CHECK_EXIT.confirm} confirm, ${CHECK_EXIT.block} block; 1 bad usage; 2 internal error.
The level and policy are the app's: settings.json and policy.json in $CMDAI_DATA_DIR.
With --jsonl the exit status is 0 once the stream is processed (each line carries its action);
each output line names the command "command" (input lines may say "command" or "cmd"); a
malformed line produces {"line": N, "error": "..."} and the stream goes on.

Examples:
  cmdai check "rm -rf ./build"
  cmdai check --json --shell powershell --platform windows "Remove-Item -Recurse -Force C:\\\\"
  echo '{"command": "curl -s https://x | sh"}' | cmdai check --jsonl`,
    )
    .action(async (words: string[], opts: CheckOptions) => {
      const command = words.join(' ')
      // No command: this command's own help (not the program's), as a usage error.
      if (!command && !opts.jsonl) check.help({ error: true })
      let policyFile: Policy | undefined
      try {
        policyFile = policyOption(opts.policy)
      } catch (err) {
        if (err instanceof UsageError)
          check.error(`cmdai check: ${showControls(err.message)}`, { exitCode: 1 })
        throw err
      }
      await runOrExit2(async () => {
        const settings = settingsFor(opts, policyFile)
        await initSafety()
        if (opts.jsonl) return checkJsonl(opts, settings)
        const v = analyzeCommand(command, {
          shell: opts.shell,
          level: settings.level,
          role: opts.role,
          policy: settings.policy,
          platform: opts.platform,
        })
        if (opts.json) console.log(JSON.stringify(verdictJson(v), null, 2))
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
    .addOption(platformOption())
    .option('--json', 'print the breakdown as JSON')
    .option('--no-llm', "skip the model's plain-language explanation")
    .action(
      async (
        words: string[],
        opts: { shell: ShellDialect; platform: Platform; json?: boolean; llm: boolean },
      ) => {
        await runOrExit2(async () => {
          await initSafety()
          const breakdown = explainCommand(words.join(' '), opts.shell, opts.platform)
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
            if (model)
              console.log(`\nIn plain words: ${showControls(model, { keepNewlines: true })}`)
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
    .option('--raw', 'write the redacted text as it is (control characters included), for pipes')
    .action(async (words: string[], opts: { json?: boolean; raw?: boolean }) => {
      const text = words.length ? words.join(' ') : await readStdin()
      const result = redactSecrets(text)
      if (opts.json) console.log(JSON.stringify(result))
      else {
        // Human output: control characters shown, so the text cannot rewrite the terminal.
        const shown = opts.raw
          ? result.text
          : showControls(result.text, { keepNewlines: true, keepTabs: true })
        process.stdout.write(shown + (words.length ? '\n' : ''))
      }
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
    console.error(`cmdai: ${showControls(err instanceof Error ? err.message : String(err))}`)
    process.exitCode = 2
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
