import { z } from 'zod'
import { teamNameSchema } from '../../contract/sync'
import { userIdSchema } from '../auth/tokens'
import type { CommitEntry } from '../rooms/committer'
import type { Storage } from '../storage/storage'
import { ensureConsoleSchema } from './schema'
import { issueSigninCode } from './sessions'

export const consoleSigninInput = z
  .object({ team: teamNameSchema, user: userIdSchema, actor: z.string().max(200).optional() })
  .strict()

export interface ConsoleSigninResult {
  code: string
  expiresAt: number
  role: string
  /** The running server's port, when the server answered (the CLI builds the link with it). */
  port: number | null
}

/**
 * `cmdai-sync admin-url`: a one-time console sign-in code for a member, issued by the running
 * server (control channel) or, when none runs, written to the storage the server will read.
 */
export function consoleSigninOperation(
  storage: Storage,
  commit: (entry: CommitEntry) => Promise<void>,
  port: number | null,
) {
  return async (input: unknown, actor: string): Promise<ConsoleSigninResult> => {
    const { team, user } = consoleSigninInput.parse(input)
    await ensureConsoleSchema(storage)
    if (!(await storage.getTeam(team))) throw new Error(`No team "${team}"`)
    const issued = await issueSigninCode(
      { storage, commit, now: () => Date.now() },
      { team, user, createdBy: actor },
    )
    return { ...issued, port }
  }
}
