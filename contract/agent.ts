import { z } from 'zod'
import { RISKS, SHELL_DIALECTS, type ShellDialect, type Verdict } from './safety'

/**
 * Coding agents (Claude Code, Codex, Cursor, ...) reach cmdai through its MCP server
 * (`cmdai mcp`), agent hooks (`cmdai hook claude-code`) or `cmdai check`. What they ask about and
 * run is judged like the user's own commands, waits for the user when it must, and is recorded in
 * history (`history:recordAgent`, `history:agentEvents`).
 */

/** What became of a command an agent asked about or wanted to run. */
export const AGENT_DECISIONS = [
  /** Only asked about (check_command, explain_command): nothing ran. */
  'checked',
  /** The policy allowed it: it ran (MCP) or the agent was told it may run it (hook). */
  'allowed',
  /** The hook told the agent to ask its user (policy `confirm`); the agent's own prompt decides. */
  'asked',
  /** It needed confirmation and the user approved it in the app: it ran. */
  'approved',
  /** It needed confirmation and the user denied it in the app. */
  'denied',
  /** The policy blocks it: refused, nothing ran. */
  'blocked',
  /** It needed confirmation but no app was running to ask the user: refused, nothing ran. */
  'refused',
  /** The approval was not given in time, or the agent gave up waiting: nothing ran. */
  'expired',
] as const
export type AgentDecision = (typeof AGENT_DECISIONS)[number]

/** How the agent reached cmdai. */
export const AGENT_VIAS = ['mcp', 'hook', 'cli'] as const
export type AgentVia = (typeof AGENT_VIAS)[number]

const text = (max: number) => z.string().max(max)
const epochMs = z.number().int().min(0).max(8.64e15)
const risk = z.enum(RISKS)

/** The agent as it names itself (MCP clientInfo, or the hook's agent). */
export const agentClientSchema = z
  .object({ name: text(200).min(1), version: text(100).optional() })
  .strict()
export type AgentClient = z.infer<typeof agentClientSchema>

/** One command an agent asked about or ran, as it is recorded in history. */
export const agentEventInputSchema = z
  .object({
    client: agentClientSchema,
    via: z.enum(AGENT_VIAS),
    /** The MCP tool or hook event, e.g. `run_command`, `check_command`, `PreToolUse`. */
    tool: text(100).min(1),
    command: text(100_000),
    cwd: text(4096).optional(),
    shell: z.enum(SHELL_DIALECTS).optional(),
    risk,
    action: z.enum(['allow', 'confirm', 'block']),
    reasons: z.array(z.object({ ruleId: text(200), risk, message: text(2000) }).strict()).max(100),
    /** The policy rule that decided the action, when one did. */
    policyRule: text(200).optional(),
    decision: z.enum(AGENT_DECISIONS),
    /** What the agent was told when it was refused, or the user's reason for a denial. */
    note: text(2000).optional(),
    /** The agent's own session id (Claude Code's `session_id`), when it sends one. */
    agentSession: text(200).optional(),
    startedAt: epochMs,
    /** For commands that ran: their exit status (null when killed by a signal or timeout). */
    exitCode: z.number().int().nullable().optional(),
    durationMs: z.number().int().min(0).max(8.64e7).optional(),
  })
  .strict()
export type AgentEventInput = z.infer<typeof agentEventInputSchema>

/** A recorded agent event. */
export interface AgentEvent extends AgentEventInput {
  id: number
  /** The history command row, for commands that ran (source `agent`). */
  commandId: number | null
}

/** Filters of the history panel's Agents view. */
export const agentEventsQuerySchema = z
  .object({
    /** Words that must all appear in the command (case-insensitive). */
    query: text(1000).default(''),
    /** Only this agent (client name). */
    client: text(200).optional(),
    decision: z.enum(AGENT_DECISIONS).optional(),
    limit: z.number().int().min(1).max(500).default(100),
    /** Paging: only events older than this id. */
    beforeId: z.number().int().positive().optional(),
  })
  .strict()

export interface AgentEventsResult {
  events: AgentEvent[]
  /** Every agent name in the history, for the client filter. */
  clients: string[]
}

/** A command an agent wants to run that waits for the user's decision in the app. */
export interface AgentApproval {
  id: string
  client: AgentClient
  command: string
  cwd: string | null
  shell: ShellDialect
  /** The app's own verdict on the command (never the agent's word for it). */
  verdict: Verdict
  requestedAt: number
  /** When the request expires and the agent is told no. */
  expiresAt: number
}

export type AgentApprovalDecision = 'approved' | 'denied' | 'expired'

export interface AgentApprovalOutcome {
  id: string
  decision: AgentApprovalDecision
  /** The user's reason, or why it expired or was refused. */
  reason: string | null
  verdict: Verdict
}

/** Requests of the `agent` domain. */
export const agentRequests = {
  /**
   * Ask the user to approve a command an agent wants to run; answers once they decide, the
   * request expires or the caller goes away. Commands the app's policy blocks are denied at once.
   * Sent by `cmdai mcp` over the control socket.
   */
  'agent:requestApproval': z
    .object({
      client: agentClientSchema,
      command: text(100_000).min(1),
      cwd: text(4096).optional(),
      shell: z.enum(SHELL_DIALECTS).optional(),
      /** How long to wait for the user, in ms (default 5 minutes). */
      timeoutMs: z.number().int().min(1_000).max(3_600_000).default(300_000),
    })
    .strict(),
  /** The approvals waiting for the user (the notice shows them). */
  'agent:pending': z.object({}).strict(),
  /** The user's decision on a waiting approval. Only the app's own windows may send it. */
  'agent:decide': z
    .object({
      id: text(64).min(1),
      decision: z.enum(['approve', 'deny']),
      reason: text(500).optional(),
    })
    .strict(),
} as const satisfies Record<string, z.ZodType>

export interface AgentResults {
  'agent:requestApproval': AgentApprovalOutcome
  'agent:pending': { approvals: AgentApproval[] }
  'agent:decide': { id: string; decision: 'approved' | 'denied' }
}

export interface AgentEvents {
  /** An agent's command waits for the user's approval. */
  'agent:approvalRequested': AgentApproval
  /** A waiting approval was decided, expired, or its agent went away. */
  'agent:approvalSettled': { id: string; decision: AgentApprovalDecision | 'cancelled' }
}
