import type { Verdict } from '../../contract/safety'

/**
 * Claude Code's `PreToolUse` hook protocol (https://code.claude.com/docs/en/hooks): the hook gets
 * a JSON object on stdin (`hook_event_name`, `tool_name`, `tool_input`, `cwd`, `session_id`, ...)
 * and answers on stdout, exit status 0, with
 * `{"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "allow" | "ask" |
 * "deny", "permissionDecisionReason": "..."}}`. `ask` shows the reason to the user in Claude
 * Code's own prompt, `deny` shows it to the model.
 *
 * cmdai gates the `Bash` tool: policy allow -> allow, confirm -> ask, block -> deny. Anything it
 * cannot read (not JSON, not PreToolUse, no command) fails closed to ask, with the reason.
 */

export type PermissionDecision = 'allow' | 'ask' | 'deny'

export interface HookOutput {
  hookSpecificOutput: {
    hookEventName: 'PreToolUse'
    permissionDecision: PermissionDecision
    permissionDecisionReason: string
  }
}

export type ParsedPayload =
  | { kind: 'command'; command: string; cwd: string | undefined; sessionId: string | undefined }
  /** Another tool than Bash: not cmdai's to judge; the hook says nothing. */
  | { kind: 'other-tool'; tool: string }
  | { kind: 'malformed'; reason: string }

/** Larger payloads are refused rather than parsed (a Bash command is far smaller). */
export const MAX_PAYLOAD_BYTES = 1024 * 1024
const MAX_COMMAND_CHARS = 100_000

export function parsePayload(text: string): ParsedPayload {
  if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES) {
    return { kind: 'malformed', reason: 'the hook input is larger than 1 MiB' }
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    return { kind: 'malformed', reason: 'the hook input is not JSON' }
  }
  if (!isObject(raw)) return { kind: 'malformed', reason: 'the hook input is not a JSON object' }
  if (raw.hook_event_name !== 'PreToolUse') {
    return {
      kind: 'malformed',
      reason: `expected a PreToolUse event, got ${describe(raw.hook_event_name)}`,
    }
  }
  if (typeof raw.tool_name !== 'string' || !raw.tool_name) {
    return { kind: 'malformed', reason: 'the hook input has no tool_name' }
  }
  if (raw.tool_name !== 'Bash') return { kind: 'other-tool', tool: raw.tool_name }
  const input = raw.tool_input
  if (!isObject(input) || typeof input.command !== 'string' || !input.command.trim()) {
    return { kind: 'malformed', reason: 'the Bash tool input has no command' }
  }
  if (input.command.length > MAX_COMMAND_CHARS) {
    return { kind: 'malformed', reason: 'the command is longer than 100,000 characters' }
  }
  return {
    kind: 'command',
    command: input.command,
    cwd: typeof raw.cwd === 'string' && raw.cwd.length <= 4096 ? raw.cwd : undefined,
    sessionId:
      typeof raw.session_id === 'string' && raw.session_id.length <= 200
        ? raw.session_id
        : undefined,
  }
}

export function hookOutput(decision: PermissionDecision, reason: string): HookOutput {
  return {
    hookSpecificOutput: {
      hookEventName: 'PreToolUse',
      permissionDecision: decision,
      permissionDecisionReason: reason,
    },
  }
}

/** cmdai's verdict as Claude Code's permission decision. */
export function decide(verdict: Verdict): HookOutput {
  const why = verdict.reasons
    .slice(0, 3)
    .map((r) => r.message)
    .join('; ')
  const rule = verdict.policy?.source === 'rule' ? `, policy rule ${verdict.policy.ruleId}` : ''
  switch (verdict.action) {
    case 'allow':
      return hookOutput('allow', `cmdai: ${verdict.risk} risk${rule}${why ? ` (${why})` : ''}`)
    case 'confirm':
      return hookOutput(
        'ask',
        `cmdai: ${verdict.risk} risk${rule}: ${why || 'needs your confirmation'}`,
      )
    case 'block':
      return hookOutput(
        'deny',
        `cmdai blocks this ${verdict.risk}-risk command${rule}: ${why || 'the safety policy forbids it'}. Do not run it in another form; tell the user what you wanted to do.`,
      )
  }
}

/** Fail closed: what the hook answers when it cannot judge the command. */
export function cannotJudge(reason: string): HookOutput {
  return hookOutput('ask', `cmdai could not check this command (${reason}); confirm it yourself.`)
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40))
  return value === undefined ? 'nothing' : typeof value
}
