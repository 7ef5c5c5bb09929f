/** Limits on what one connection may send; each is enforced with a close code and reason. */
export interface Limits {
  /** Largest single WebSocket message (a sync step 2 of a big library must fit). */
  maxMessageBytes: number
  /** Sustained messages per second per connection (token bucket)... */
  messagesPerSecond: number
  /** ...and the burst above it. */
  messageBurst: number
  /** Largest awareness state (JSON) one client may set. */
  maxAwarenessBytes: number
  /** Rooms one token may have open at once (each y-websocket connection is one room). */
  maxRoomsPerToken: number
  /** Refused writes tolerated from a read-only connection before it is closed. */
  maxRefusedWrites: number
  /** Largest POST body (client events). */
  maxHttpBodyBytes: number
}

export const DEFAULT_LIMITS: Limits = {
  maxMessageBytes: 4 * 1024 * 1024,
  messagesPerSecond: 200,
  messageBurst: 400,
  maxAwarenessBytes: 16 * 1024,
  maxRoomsPerToken: 64,
  maxRefusedWrites: 100,
  maxHttpBodyBytes: 1024 * 1024,
}

/** Timers; tests shorten them. */
export interface Timings {
  /** Unload a room this long after its last connection left. */
  idleUnloadMs: number
  /** How often open connections are checked against revocations, removals and expiry. */
  revocationPollMs: number
  /** The server's own awareness state is renewed this often (clients drop states after 30 s). */
  serverStateRenewMs: number
  /** Sign a checkpoint after this many records... */
  checkpointEveryRecords: number
  /** ...or this long after the last one, when records were added. */
  checkpointEveryMs: number
  /** Compact a room's stored updates into one once it has this many rows. */
  compactAfterRows: number
  /** Apply each team's audit retention this often. */
  retentionEveryMs: number
}

export const DEFAULT_TIMINGS: Timings = {
  idleUnloadMs: 30_000,
  revocationPollMs: 2_000,
  serverStateRenewMs: 10_000,
  checkpointEveryRecords: 1_000,
  checkpointEveryMs: 60_000,
  compactAfterRows: 500,
  retentionEveryMs: 3_600_000,
}
