import { hostname } from 'node:os'
import { z } from 'zod'
import type { AuditLog } from '../audit/audit-log'
import { EXPORT_FORMATS, exportRecords } from '../audit/export'
import type { Admin } from './admin'
import { AdminError } from './admin'
import type { BackupCounts } from './backup'

/** What the admin commands run against: a local backend or the running server. */
export interface OperationContext {
  admin: Admin
  audit: AuditLog
  backup(out: string): Promise<BackupCounts>
  version: string
  /** `admin-url`: a one-time console sign-in code (sync-server/console). */
  consoleSignin?(input: unknown, actor: string): Promise<unknown>
  /** Who runs the operation (audited as the actor). */
  actor?: string
}

export const exportInputSchema = z
  .object({
    team: z.string().max(100).optional(),
    format: z.enum(EXPORT_FORMATS),
    since: z.number().optional(),
    until: z.number().optional(),
  })
  .strict()

/** Dispatches one admin operation by name (the control channel and the CLI share this). */
export async function runOperation(
  ctx: OperationContext,
  op: string,
  input: unknown,
): Promise<unknown> {
  const a = ctx.admin
  const arg = input as never
  switch (op) {
    case 'ping':
      return { pong: true }
    case 'teamCreate':
      return a.teamCreate(arg)
    case 'teamList':
      return a.teamList()
    case 'memberAdd':
      return a.memberAdd(arg)
    case 'memberSetRole':
      return a.memberSetRole(arg)
    case 'memberRemove':
      return a.memberRemove(arg)
    case 'memberList':
      return a.memberList(arg)
    case 'tokenCreate':
      return a.tokenCreate(arg)
    case 'tokenList':
      return a.tokenList(arg)
    case 'tokenRevoke':
      return a.tokenRevoke(arg)
    case 'keyRotate':
      return a.keyRotate(arg)
    case 'keyList':
      return a.keyList()
    case 'auditVerify':
      return a.auditVerify(arg)
    case 'auditRetention':
      return a.auditRetention(arg)
    case 'consoleSignin':
      if (!ctx.consoleSignin) throw new AdminError('This server has no admin console')
      return ctx.consoleSignin(input, ctx.actor ?? 'cli')
    case 'backup': {
      const { out } = z
        .object({ out: z.string().min(1).max(4096) })
        .strict()
        .parse(input)
      return ctx.backup(out)
    }
    default:
      throw new AdminError(`Unknown operation ${op}`)
  }
}

/** Streams an audit export (every chain, or one team's). */
export async function streamExport(
  ctx: OperationContext,
  input: unknown,
  write: (chunk: string) => Promise<void> | void,
): Promise<void> {
  const opts = exportInputSchema.parse(input)
  const teams = opts.team ? [opts.team] : await ctx.audit.teams()
  let header = true
  for (const team of teams) {
    for await (const chunk of exportRecords(ctx.audit.lines(team), {
      format: opts.format,
      since: opts.since,
      until: opts.until,
      hostname: hostname(),
      version: ctx.version,
    })) {
      // One CSV header for the whole export.
      if (opts.format === 'csv' && chunk.startsWith('seq,') && !header) continue
      header = false
      await write(chunk)
    }
  }
}
