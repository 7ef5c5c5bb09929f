import { randomUUID } from 'node:crypto'
import type { z } from 'zod'
import { CmdaiError } from '../../contract/errors'
import type { PatternHit } from '../../contract/library'
import type { ShellDialect } from '../../contract/safety'
import { withHistory } from '../control/history-access'
import { explainCommand } from '../safety/analyze'
import { hostPlatform } from '../safety/config'
import { formatBreakdown, formatVerdict } from '../safety/format'
import { judge } from './gate'
import { agentEvent, record, resolveCwd, type LocalGeneration, type ToolDef } from './mcp-context'
import {
  checkInput,
  explainInput,
  explainOutput,
  generateInput,
  generateOutput,
  patternsInput,
  patternsOutput,
  runInput,
  runOutput,
  searchInput,
  searchOutput,
  verdictForAgent,
  verdictOutput,
} from './mcp-schemas'
import { runCommandTool } from './run-tool'

const define = <I extends z.ZodObject>(tool: ToolDef<I>): ToolDef => tool as unknown as ToolDef

const ACTION_HINT = {
  allow: 'cmdai allows it: you may run it.',
  confirm:
    'cmdai needs the user to confirm it: ask them, or use run_command, which asks them in the cmdai app.',
  block: 'cmdai blocks it: do not run it.',
} as const

const checkTool = define({
  name: 'check_command',
  title: 'Check a shell command',
  description:
    "Rate a shell command with cmdai's parser-based safety engine and the user's policy before running it: risk (safe, moderate, high, critical), what cmdai would do (allow, confirm, block) and why, each reason pointing at the part of the command it concerns. Nothing runs.",
  input: checkInput,
  output: verdictOutput,
  annotations: { readOnlyHint: true, openWorldHint: false, idempotentHint: true },
  async run(args, ctx) {
    const verdict = await judge(args.command, args.shell ?? 'bash', ctx.dataDir)
    await record(
      ctx,
      agentEvent(ctx, 'check_command', verdict, 'checked', { cwd: resolveCwd(ctx, args.cwd) }),
    )
    return {
      structured: verdictForAgent(verdict),
      text: `${formatVerdict(verdict, { color: false })}\n${ACTION_HINT[verdict.action]}`,
    }
  },
})

const explainTool = define({
  name: 'explain_command',
  title: 'Explain a shell command',
  description:
    'Break a shell command down into the programs it runs (seeing through sudo, xargs, bash -c, pipes), their subcommands, flags, targets and redirections, with its safety verdict. Nothing runs.',
  input: explainInput,
  output: explainOutput,
  annotations: { readOnlyHint: true, openWorldHint: false, idempotentHint: true },
  async run(args, ctx) {
    const shell: ShellDialect = args.shell ?? 'bash'
    const verdict = await judge(args.command, shell, ctx.dataDir)
    const breakdown = explainCommand(args.command, shell, hostPlatform())
    await record(ctx, agentEvent(ctx, 'explain_command', verdict, 'checked'))
    return {
      structured: {
        parts: breakdown.parts.map((p) => ({
          program: p.program,
          subcommand: p.subcommand,
          flags: p.flags,
          targets: p.targets,
          via: p.via,
          redirects: p.redirects,
          connector: p.connector,
        })),
        ...(breakdown.parseError ? { parseError: breakdown.parseError } : {}),
        verdict: verdictForAgent(verdict),
      },
      text: `${formatBreakdown(breakdown, { color: false })}\n\n${formatVerdict(verdict, { color: false })}`,
    }
  },
})

const generateTool = define({
  name: 'generate_command',
  title: 'Generate a shell command',
  description:
    "Turn a request in plain words into one shell command with cmdai's local model (nothing leaves the machine), checked by the safety engine and the user's policy. Nothing runs.",
  input: generateInput,
  output: generateOutput,
  annotations: { readOnlyHint: true, openWorldHint: false },
  async run(args, ctx, call) {
    const cwd = resolveCwd(ctx, args.cwd)
    const shell: ShellDialect = args.shell ?? 'bash'
    const app = await ctx.app.get()
    let generated: LocalGeneration
    if (app) {
      const result = await app.call(
        'llm:generate',
        { request: args.request, requestId: `mcp-${randomUUID()}`, context: { cwd, shell } },
        { signal: call.signal },
      )
      generated = { ...result, model: result.model }
    } else {
      generated = await ctx.generateLocally(args.request, cwd, call.signal)
    }
    // The same judgement as every other surface, whatever the model's backend did.
    const verdict = await judge(generated.command || ' ', shell, ctx.dataDir)
    await record(ctx, agentEvent(ctx, 'generate_command', verdict, 'checked', { cwd }))
    return {
      structured: {
        command: generated.command,
        explanation: generated.explanation,
        assumptions: generated.assumptions,
        needsInput: generated.needsInput,
        verdict: verdictForAgent(verdict),
        model: generated.model,
      },
      text: [
        generated.command,
        generated.explanation,
        generated.needsInput ? `Needs: ${generated.needsInput}` : '',
        formatVerdict(verdict, { color: false }),
      ]
        .filter(Boolean)
        .join('\n'),
    }
  },
})

const searchTool = define({
  name: 'search_history',
  title: "Search the user's shell history",
  description:
    'Search the commands the user (and agents) ran, recorded by cmdai with exit status and directory; best first (recent, frequent, successful). Secrets were redacted before they were stored.',
  input: searchInput,
  output: searchOutput,
  annotations: { readOnlyHint: true, openWorldHint: false, idempotentHint: true },
  async run(args, ctx) {
    const result = await withHistory(ctx.dataDir, { name: 'cmdai-mcp' }, (history) =>
      history.search({
        query: args.query,
        mode: args.mode ?? 'text',
        limit: args.limit ?? 20,
        ...(args.cwd ? { filter: { cwd: args.cwd } } : {}),
      }),
    )
    const hits = result.hits.map((h) => ({
      command: h.command,
      uses: h.uses,
      failures: h.failures,
      lastExitCode: h.last.exitCode,
      lastCwd: h.last.cwd,
      lastRunAt: new Date(h.last.startedAt).toISOString(),
    }))
    const text = hits.length
      ? hits
          .map((h) => `${h.command}   (${h.uses}x, last exit ${h.lastExitCode ?? '?'})`)
          .join('\n')
      : 'No matches.'
    return { structured: { hits }, text }
  },
})

const patternsTool = define({
  name: 'list_patterns',
  title: "List the team's command patterns",
  description:
    "The team's shared, reviewed command patterns (runbooks with {{parameters}}) that match a query, each with its risk. Prefer them over inventing a command for the same task.",
  input: patternsInput,
  output: patternsOutput,
  annotations: { readOnlyHint: true, openWorldHint: false, idempotentHint: true },
  async run(args, ctx) {
    const app = await ctx.app.get()
    const none = (message: string) => ({
      structured: { available: false, message, patterns: [] },
      text: message,
    })
    if (!app) {
      return none(
        'No cmdai app is running: team libraries are read through it (start the app or `cmdai serve`).',
      )
    }
    let hits: PatternHit[]
    try {
      const result = await app.call('library:search', {
        query: args.query ?? '',
        limit: args.limit ?? 20,
      })
      hits = result.hits
    } catch (err) {
      if (
        err instanceof CmdaiError &&
        (err.code === 'unknown_channel' || err.code === 'unavailable')
      ) {
        return none(`No team libraries yet: ${err.message}`)
      }
      throw err
    }
    const patterns = hits.map((h) => ({
      library: h.library,
      id: h.pattern.id,
      title: h.pattern.title,
      description: h.pattern.description,
      command: h.pattern.command,
      tags: h.pattern.tags,
      risk: h.risk,
    }))
    return {
      structured: { available: true, patterns },
      text: patterns.length
        ? patterns.map((p) => `${p.title} [${p.risk}]: ${p.command}`).join('\n')
        : 'No pattern matches.',
    }
  },
})

const runTool = define({
  name: 'run_command',
  title: 'Run a shell command through cmdai',
  description:
    "Run a shell command in a non-interactive shell after cmdai judges it with the user's policy. Allowed commands run at once; commands that need confirmation wait for the user to approve them in the cmdai app (refused when no app is running); blocked commands are refused with the reasons and never run. Returns exit status and output (capped; secrets redacted).",
  input: runInput,
  output: runOutput,
  annotations: {
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: false,
    openWorldHint: true,
  },
  run: (args, ctx, call) => runCommandTool(args, ctx, call),
})

export const TOOLS: readonly ToolDef[] = [
  checkTool,
  explainTool,
  generateTool,
  searchTool,
  patternsTool,
  runTool,
]
