/**
 * Wire names shared by the transports. Kept free of runtime dependencies so the sandboxed
 * preload can bundle it without pulling in the schemas.
 */
export const IPC_INVOKE_CHANNEL = 'cmdai:invoke'
export const IPC_EVENT_CHANNEL = 'cmdai:event'
/** Browser mode: the socket path and the cookie that carries the per-launch token. */
export const WS_PATH = '/ws'
export const TOKEN_COOKIE = 'cmdai_token'

/** Browser-mode socket frames (JSON text). */
export type ClientFrame = { t: 'req'; id: number; channel: string; args: unknown }
export type ServerFrame =
  | { t: 'res'; id: number; result: unknown }
  | { t: 'evt'; name: string; payload: unknown }
  | { t: 'error'; error: { code: string; message: string } }
