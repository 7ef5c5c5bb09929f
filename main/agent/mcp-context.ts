import { isAbsolute, resolve } from 'node:path'
import type { z } from 'zod'
import type { AgentClient, AgentEventInput } from '../../contract/agent'
import type { Verdict } from '../../contract/safety'
import type { AppLink } from './app-link'
import { recordAgentEvent } from './recorder'

/** What every tool call gets: who is asking, where the app is, how to report progress. */
export interface McpContext {
  dataDir: string
  /** The MCP client as it named itself in `initialize`. */
  client(): AgentClient
  app: AppLink
  /** The directory commands run in when the agent gives none. */
  defaultCwd: string
  approvalTimeoutMs: number
  /** The local model, loaded on first use when no app runs. */
  generateLocally(request: string, cwd: string, signal: AbortSignal): Promise<LocalGeneration>
}

export interface LocalGeneration {
  command: string
  explanation: string
  assumptions: string[]
  needsInput: string | null
  model: string
}

export interface ToolCall {
  signal: AbortSignal
  /** Reports progress (keeps the client's request timeout from firing while the user decides). */
  progress(message: string): void
}

export interface ToolResult {
  structured: Record<string, unknown>
  text: string
  isError?: boolean
}

export interface ToolDef<I extends z.ZodObject = z.ZodObject> {
  name: string
  title: string
  description: string
  input: I
  output: z.ZodObject
  annotations: {
    readOnlyHint: boolean
    destructiveHint?: boolean
    idempotentHint?: boolean
    openWorldHint: boolean
  }
  run(args: z.output<I>, ctx: McpContext, call: ToolCall): Promise<ToolResult>
}

export function resolveCwd(ctx: McpContext, cwd: string | undefined): string {
  if (!cwd) return ctx.defaultCwd
  return isAbsolute(cwd) ? cwd : resolve(ctx.defaultCwd, cwd)
}

/** The event history records for one tool call. */
export function agentEvent(
  ctx: McpContext,
  tool: string,
  verdict: Verdict,
  decision: AgentEventInput['decision'],
  extra: Partial<AgentEventInput> = {},
): AgentEventInput {
  return {
    client: ctx.client(),
    via: 'mcp',
    tool,
    command: verdict.command,
    shell: verdict.shell,
    risk: verdict.risk,
    action: verdict.action,
    reasons: verdict.reasons.map((r) => ({ ruleId: r.ruleId, risk: r.risk, message: r.message })),
    ...(verdict.policy?.ruleId ? { policyRule: verdict.policy.ruleId } : {}),
    decision,
    startedAt: Date.now(),
    ...extra,
  }
}

export async function record(ctx: McpContext, event: AgentEventInput): Promise<void> {
  // Recording never fails a tool call: an app that does not answer means the spool.
  const app = await ctx.app.get().catch(() => null)
  await recordAgentEvent(ctx.dataDir, event, app)
}
