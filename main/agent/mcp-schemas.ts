import { z } from 'zod'
import { RISKS, SAFETY_LEVELS, SHELL_DIALECTS, type Verdict } from '../../contract/safety'
import { SEARCH_MODES } from '../../contract/history'

/** Input and output schemas of the MCP tools (validated here; sent to clients as JSON Schema). */

const command = z
  .string()
  .min(1)
  .max(100_000)
  .describe('The shell command, exactly as it would run')
const shell = z
  .enum(SHELL_DIALECTS)
  .optional()
  .describe('Shell dialect of the command (default bash)')
const cwd = z
  .string()
  .min(1)
  .max(4096)
  .optional()
  .describe('Working directory (absolute; default: where the cmdai MCP server was started)')

export const checkInput = z.object({ command, shell, cwd }).strict()
export const explainInput = z.object({ command, shell }).strict()
export const generateInput = z
  .object({
    request: z.string().min(1).max(4000).describe('What the command should do, in plain words'),
    shell,
    cwd,
  })
  .strict()
export const searchInput = z
  .object({
    query: z.string().max(1000).describe('Words, text or meaning to look for; empty: recent'),
    mode: z
      .enum(SEARCH_MODES)
      .optional()
      .describe('text (words, default), substring, fuzzy, semantic'),
    limit: z.number().int().min(1).max(50).optional().describe('How many results (default 20)'),
    cwd: z.string().max(4096).optional().describe('Only commands run in this directory or below'),
  })
  .strict()
export const patternsInput = z
  .object({
    query: z.string().max(1000).optional().describe('Words to look for in titles, commands, tags'),
    limit: z.number().int().min(1).max(100).optional(),
  })
  .strict()
export const runInput = z
  .object({
    command,
    shell,
    cwd,
    timeoutMs: z
      .number()
      .int()
      .min(1_000)
      .max(1_800_000)
      .optional()
      .describe('Kill the command (and everything it started) after this long; default 120000'),
    maxOutputBytes: z
      .number()
      .int()
      .min(1_024)
      .max(1_048_576)
      .optional()
      .describe('Per stream; beyond it the middle of the output is dropped. Default 65536'),
  })
  .strict()

const risk = z.enum(RISKS)
export const verdictOutput = z.object({
  risk,
  action: z.enum(['allow', 'confirm', 'block']),
  reasons: z.array(
    z.object({
      ruleId: z.string(),
      risk,
      message: z.string(),
      span: z.object({ start: z.number(), end: z.number() }).nullable(),
      /** The part of the command the reason points at. */
      text: z.string().nullable(),
    }),
  ),
  policy: z
    .object({
      level: z.enum(SAFETY_LEVELS),
      source: z.enum(['level', 'rule']),
      ruleId: z.string().optional(),
      reason: z.string().optional(),
    })
    .optional(),
  parseError: z.string().optional(),
  programs: z.array(z.string()),
  tags: z.array(z.string()),
})
export type VerdictOutput = z.infer<typeof verdictOutput>

export function verdictForAgent(v: Verdict): VerdictOutput {
  return {
    risk: v.risk,
    action: v.action,
    reasons: v.reasons.map((r) => ({
      ruleId: r.ruleId,
      risk: r.risk,
      message: r.message,
      span: r.span,
      text: r.span ? v.command.slice(r.span.start, r.span.end) : null,
    })),
    ...(v.policy ? { policy: v.policy } : {}),
    ...(v.parseError ? { parseError: v.parseError } : {}),
    programs: v.programs ?? [],
    tags: v.tags ?? [],
  }
}

export const explainOutput = z.object({
  parts: z.array(
    z.object({
      program: z.string(),
      subcommand: z.string().nullable(),
      flags: z.array(z.string()),
      targets: z.array(z.string()),
      via: z.array(z.string()),
      redirects: z.array(z.string()),
      connector: z.string().nullable(),
    }),
  ),
  parseError: z.string().optional(),
  verdict: verdictOutput,
})

export const generateOutput = z.object({
  command: z.string(),
  explanation: z.string(),
  assumptions: z.array(z.string()),
  needsInput: z.string().nullable(),
  verdict: verdictOutput,
  model: z.string(),
})

export const searchOutput = z.object({
  hits: z.array(
    z.object({
      command: z.string(),
      uses: z.number(),
      failures: z.number(),
      lastExitCode: z.number().nullable(),
      lastCwd: z.string().nullable(),
      lastRunAt: z.string(),
    }),
  ),
})

export const patternsOutput = z.object({
  available: z.boolean(),
  message: z.string().optional(),
  patterns: z.array(
    z.object({
      library: z.string(),
      id: z.string(),
      title: z.string(),
      description: z.string(),
      command: z.string(),
      tags: z.array(z.string()),
      risk,
    }),
  ),
})

export const RUN_STATUSES = ['ran', 'blocked', 'denied', 'refused', 'expired'] as const
export const runOutput = z.object({
  status: z.enum(RUN_STATUSES),
  /** Why it did not run. */
  reason: z.string().optional(),
  /** `policy` when the policy allowed it, `user` when the user approved it in cmdai. */
  approvedBy: z.enum(['policy', 'user']).optional(),
  exitCode: z.number().nullable().optional(),
  signal: z.string().nullable().optional(),
  timedOut: z.boolean().optional(),
  durationMs: z.number().optional(),
  stdout: z.string().optional(),
  stderr: z.string().optional(),
  truncated: z.boolean().optional(),
  /** Secrets cmdai redacted from the output before returning it. */
  redactions: z.number().optional(),
  verdict: verdictOutput,
})
export type RunOutput = z.infer<typeof runOutput>
