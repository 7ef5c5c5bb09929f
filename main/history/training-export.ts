import { platform } from 'node:os'
import { CmdaiError } from '../../contract'
import { buildContextBlock, buildSystemPrompt, buildUserMessage } from '../llm/prompt'
import { redactForHistory } from './redact'
import { toAiRequest, type AiRow } from './rows'
import type { HistoryStore } from './store'

/**
 * `cmdai history export --format training`: the AI requests the user decided on, as chat-format
 * JSON lines for fine-tuning, in the same prompt format the engine uses. One line per request:
 *
 *   {"messages": [system, user, assistant], "label": "accepted" | "corrected" | "rejected", "meta": {...}}
 *
 * - ran: the proposed command is the assistant's answer, label "accepted";
 * - edited: the command the user ran instead is the answer, label "corrected", and the model's
 *   proposal is kept in meta.proposed (a preference pair);
 * - cancelled or blocked: the proposal is the answer, label "rejected": a negative example, to
 *   be used as one (or dropped), never as a target.
 * Copied and undecided requests are left out: nothing says whether the command was right.
 *
 * The history does not keep the model's explanation, so the assistant's JSON has an empty one;
 * train on the command field (or mask the rest). Every text is redacted again on the way out
 * (history rows were redacted when written; the rules may have grown since).
 */

export type TrainingLabel = 'accepted' | 'corrected' | 'rejected'

export interface TrainingExample {
  messages: Array<{ role: 'system' | 'user' | 'assistant'; content: string }>
  label: TrainingLabel
  meta: {
    id: number
    createdAt: string
    decision: string
    model: string | null
    risk: string | null
    exitCode: number | null
    /** The model's proposal, when the user corrected it. */
    proposed?: string
  }
}

export interface TrainingExportOptions {
  /** Only requests made in [since, until) (epoch ms). */
  since?: number
  until?: number
  /** Leave out accepted or corrected commands that then failed (non-zero exit). */
  onlySucceeded?: boolean
  /** Stop after this many examples (previews). */
  limit?: number
  redact?: (text: string) => string
  /** The OS named in the system prompt (default: this machine's). */
  os?: string
}

const LABELS: Record<string, TrainingLabel> = {
  ran: 'accepted',
  edited: 'corrected',
  cancelled: 'rejected',
  blocked: 'rejected',
}

const SHELLS = new Set(['bash', 'sh', 'zsh', 'fish', 'powershell'])

interface LinkedCommand {
  exit_code: number | null
  cwd: string | null
  shell: string | null
}

/** The training examples, oldest first, paged from the database. */
export async function* trainingExamples(
  store: HistoryStore,
  options: TrainingExportOptions = {},
): AsyncGenerator<TrainingExample> {
  const redact = options.redact ?? redactForHistory
  const os = options.os ?? platform()
  let after = 0
  let produced = 0
  for (;;) {
    const res = await store.db.query<
      AiRow & { c_exit: number | null; c_cwd: string | null; c_shell: string | null }
    >(
      `SELECT a.*, c.exit_code AS c_exit, c.cwd AS c_cwd, c.shell AS c_shell
         FROM ai_requests a LEFT JOIN commands c ON c.id = a.command_id
        WHERE a.id > $1 AND a.decision IN ('ran', 'edited', 'cancelled', 'blocked')
          AND a.created_at >= $2 AND a.created_at < $3
        ORDER BY a.id LIMIT 500`,
      [after, options.since ?? 0, options.until ?? 8.64e15],
    )
    for (const row of res.rows) {
      const linked: LinkedCommand = { exit_code: row.c_exit, cwd: row.c_cwd, shell: row.c_shell }
      const example = toExample(toAiRequest(row), linked, redact, os)
      if (!example) continue
      if (
        options.onlySucceeded &&
        example.label !== 'rejected' &&
        example.meta.exitCode !== null &&
        example.meta.exitCode !== 0
      )
        continue
      yield example
      if (options.limit !== undefined && ++produced >= options.limit) return
    }
    if (res.rows.length < 500) return
    after = res.rows[res.rows.length - 1]!.id
  }
}

function toExample(
  ai: ReturnType<typeof toAiRequest>,
  linked: LinkedCommand,
  redact: (text: string) => string,
  os: string,
): TrainingExample | null {
  const label = ai.decision ? LABELS[ai.decision] : undefined
  const proposed = ai.proposedCommand?.trim()
  if (!label || !proposed) return null
  const target = label === 'corrected' ? ai.finalCommand?.trim() : proposed
  if (!target) return null
  const shell = linked.shell && SHELLS.has(linked.shell) ? linked.shell : 'bash'
  const context = buildContextBlock(linked.cwd ? { cwd: redact(linked.cwd) } : {})
  const answer = {
    command: redact(target),
    explanation: '',
    assumptions: [],
    needsInput: null,
  }
  return {
    messages: [
      { role: 'system', content: buildSystemPrompt(shell, os) },
      { role: 'user', content: buildUserMessage(context, redact(ai.request)) },
      { role: 'assistant', content: JSON.stringify(answer) },
    ],
    label,
    meta: {
      id: ai.id,
      createdAt: new Date(ai.createdAt).toISOString(),
      decision: ai.decision!,
      model: ai.model,
      risk: ai.risk,
      exitCode: label === 'rejected' ? null : linked.exit_code,
      ...(label === 'corrected' ? { proposed: redact(proposed) } : {}),
    },
  }
}

/** How to turn the export on, for the error when it is off. */
export function trainingExportOffMessage(settingsFile: string): string {
  return (
    'Training export is off. Turn on "Allow exporting AI requests as training data" in ' +
    `Settings → Privacy, or set "privacy": {"trainingExport": true} in ${settingsFile}. ` +
    'Add --preview to see what it would write first.'
  )
}

export interface TrainingExportResult {
  written: number
  byLabel: Record<TrainingLabel, number>
}

/**
 * Writes the examples as JSON lines through `write`. Refuses unless `consented` (the
 * privacy.trainingExport setting), except for a preview, which writes at most `preview` lines.
 */
export async function exportTraining(
  store: HistoryStore,
  write: (chunk: string) => void | Promise<void>,
  options: TrainingExportOptions & { consented: boolean; preview?: number; settingsFile: string },
): Promise<TrainingExportResult> {
  if (!options.consented && options.preview === undefined)
    throw new CmdaiError('forbidden', trainingExportOffMessage(options.settingsFile))
  const byLabel: Record<TrainingLabel, number> = { accepted: 0, corrected: 0, rejected: 0 }
  let written = 0
  let buffer = ''
  const limit = options.preview ?? options.limit
  for await (const example of trainingExamples(store, { ...options, limit })) {
    buffer += JSON.stringify(example) + '\n'
    byLabel[example.label]++
    written++
    if (buffer.length > 64 * 1024) {
      await write(buffer)
      buffer = ''
    }
  }
  if (buffer) await write(buffer)
  return { written, byLabel }
}
