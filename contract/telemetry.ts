/**
 * What members' apps send to the team server beyond the audit trail: the team's choice, kept in
 * the team's policy document (`<team>/.policy`, root map `policy`, key `telemetry`), so only
 * admins change it, every app gets it live through sync, and each change is audited as a policy
 * change. The app shows it (and exactly what it sent) to each member.
 *
 * Always sent, whatever the setting (the audit trail of shared work): runs of team patterns,
 * approval requests and decisions, coding agents' commands. Never sent: command output, file
 * contents, the words of AI requests (prompts). Commands are redacted before they leave the app.
 *
 * Free of Node-only imports: the renderer and the console UI import it.
 */
import * as Y from 'yjs'
import { z } from 'zod'
import { DOC_ROOT, SYNC_SCHEMA_VERSION, isFromTheFuture } from './sync'

export const teamTelemetrySchema = z
  .object({
    v: z.literal(1),
    /** What members did with AI suggestions (ran, edited, copied, cancelled, blocked), the model, latency and risk. */
    aiDecisions: z.boolean(),
    /** Also the suggested command (redacted) with AI decisions and AI runs. */
    commandText: z.boolean(),
    /** Exit code and duration of commands run from AI suggestions. */
    aiRunOutcomes: z.boolean(),
  })
  .strict()

export type TeamTelemetry = z.output<typeof teamTelemetrySchema>

/** What apps send when the team has not chosen: only the audit trail. */
export const DEFAULT_TELEMETRY: TeamTelemetry = {
  v: 1,
  aiDecisions: false,
  commandText: false,
  aiRunOutcomes: false,
}

export interface TelemetrySnapshot {
  telemetry: TeamTelemetry
  /** False when the team never set it (the default applies). */
  chosen: boolean
  updatedBy?: string
  updatedAt?: number
}

const TELEMETRY_KEY = 'telemetry'

/**
 * The team's setting from its policy document. A value that does not validate means the least:
 * the default (nothing beyond the audit trail), never a guess towards sending more.
 */
export function readTeamTelemetry(doc: Y.Doc): TelemetrySnapshot {
  if (isFromTheFuture(doc)) return { telemetry: DEFAULT_TELEMETRY, chosen: false }
  const raw: unknown = doc.getMap(DOC_ROOT.policy).get(TELEMETRY_KEY)
  if (raw === undefined || raw instanceof Y.AbstractType)
    return { telemetry: DEFAULT_TELEMETRY, chosen: false }
  const parsed = z
    .object({
      setting: teamTelemetrySchema,
      updatedBy: z.string().max(200),
      updatedAt: z.number(),
    })
    .safeParse(raw)
  if (!parsed.success) return { telemetry: DEFAULT_TELEMETRY, chosen: false }
  return {
    telemetry: parsed.data.setting,
    chosen: true,
    updatedBy: parsed.data.updatedBy,
    updatedAt: parsed.data.updatedAt,
  }
}

/** Sets the team's choice (validated first; throws on invalid input). */
export function writeTeamTelemetry(
  doc: Y.Doc,
  setting: unknown,
  updatedBy: string,
  now = Date.now(),
): TeamTelemetry {
  const parsed = teamTelemetrySchema.parse(setting)
  if (isFromTheFuture(doc)) throw new Error('the policy document is from a newer cmdai')
  doc.transact(() => {
    const meta = doc.getMap(DOC_ROOT.meta)
    if (meta.get('schema') === undefined) meta.set('schema', SYNC_SCHEMA_VERSION)
    doc.getMap(DOC_ROOT.policy).set(TELEMETRY_KEY, { setting: parsed, updatedBy, updatedAt: now })
  })
  return parsed
}
