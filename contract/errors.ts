/** The closed set of error codes that may cross a process boundary. */
export const ERROR_CODES = [
  'invalid_input',
  'unknown_channel',
  'not_found',
  'unavailable',
  'forbidden',
  'conflict',
  'cancelled',
  'timeout',
  'internal',
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]

/** What an error looks like once it has crossed IPC or the browser-mode socket. */
export interface ErrorEnvelope {
  code: ErrorCode
  message: string
}

/** Every request answers with exactly one of these; transports never throw across the boundary. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorEnvelope }

/** An error that carries one of the contract's codes. Services throw it; transports envelope it. */
export class CmdaiError extends Error {
  readonly code: ErrorCode

  constructor(code: ErrorCode, message: string) {
    super(message)
    this.name = 'CmdaiError'
    this.code = code
  }

  toEnvelope(): ErrorEnvelope {
    return { code: this.code, message: this.message }
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value)
}

/** Turns anything thrown into an envelope without leaking stack traces or `[object Object]`. */
export function toErrorEnvelope(err: unknown): ErrorEnvelope {
  if (err instanceof CmdaiError) return err.toEnvelope()
  if (err && typeof err === 'object' && 'name' in err && err.name === 'AbortError') {
    return { code: 'cancelled', message: 'The operation was cancelled' }
  }
  if (err instanceof Error) return { code: 'internal', message: err.message || err.name }
  return { code: 'internal', message: typeof err === 'string' ? err : 'Unknown error' }
}
