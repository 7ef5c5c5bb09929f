import type { Logger } from 'pino'
import type { AuditDraft } from '../audit/chain'
import type { Limits, Timings } from '../config'
import type { SyncMetrics } from '../metrics'
import type { Relay } from '../relay/relay'
import type { Storage } from '../storage/storage'
import type { Committer } from './committer'
import type { Connection } from './connection'
import type { Room } from './room'
import type { Assess, Redact } from './summary'

/** What a room needs from the server around it. */
export interface RoomHost {
  storage: Storage
  committer: Committer
  relay: Relay | null
  metrics: SyncMetrics
  logger: Logger
  limits: Limits
  timings: Timings
  redact: Redact
  assess: Assess
  /**
   * The room cannot go on as it is (an update broke the format, or a commit failed): close its
   * connections (the offender's for good, the others' to reconnect) and drop it from memory, so
   * the next connection loads what is stored.
   */
  failRoom(room: Room, reason: string, offender?: { conn: Connection; code: number }): void
  /** Appends audit records that accompany no document change (refusals, sign-ins). */
  record(drafts: AuditDraft[]): void
}
