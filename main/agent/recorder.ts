import type { AgentEventInput } from '../../contract/agent'
import type { ControlClient } from '../control/client'
import { ensurePrivateDir } from '../control/private-files'
import { appendToSpool } from './spool'

export type RecordedIn = 'app' | 'spool' | 'dropped'

/**
 * Records what an agent asked about or ran: through the running app (history at once, shown live
 * in the Agents view), otherwise in the spool the app picks up later. Recording never decides
 * anything: a failure here is reported, the verdict stands.
 */
export async function recordAgentEvent(
  dataDir: string,
  event: AgentEventInput,
  app: ControlClient | null,
): Promise<RecordedIn> {
  if (app && !app.closed) {
    try {
      await app.call('history:recordAgent', event)
      return 'app'
    } catch {
      // The app is there but history is not (still opening, or it just quit): spool it.
    }
  }
  try {
    ensurePrivateDir(dataDir)
    return appendToSpool(dataDir, event) ? 'spool' : 'dropped'
  } catch {
    return 'dropped'
  }
}
