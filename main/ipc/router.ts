import {
  CmdaiError,
  requestSchemas,
  toErrorEnvelope,
  type Channel,
  type ParsedArgs,
  type RequestResult,
  type Result,
} from '../../contract'

/** Who sent a request: lets services scope resources (PTYs) to the window or browser tab. */
export interface RequestContext {
  clientId: string
  signal?: AbortSignal
  /**
   * `control`: a local program (the CLI, `cmdai mcp`) over the control socket (main/control),
   * not one of the app's own windows; absent for the app's UI. Handlers that only the user may
   * trigger (approving an agent's command) refuse it.
   */
  transport?: 'control'
}

export type Handler<C extends Channel> = (
  args: ParsedArgs<C>,
  ctx: RequestContext,
) => Promise<RequestResult<C>> | RequestResult<C>

/**
 * The single place requests enter main. Both transports (Electron IPC and the browser-mode
 * socket) call `dispatch`; it validates the channel and the arguments against the contract's
 * schemas and turns every failure into a typed envelope.
 */
export class Router {
  private readonly handlers = new Map<Channel, Handler<Channel>>()

  handle<C extends Channel>(channel: C, handler: Handler<C>): void {
    if (!(channel in requestSchemas)) throw new Error(`Channel ${channel} is not in the contract`)
    if (this.handlers.has(channel))
      throw new Error(`A handler for ${channel} is already registered`)
    this.handlers.set(channel, handler as unknown as Handler<Channel>)
  }

  has(channel: string): boolean {
    return this.handlers.has(channel as Channel)
  }

  /** Channels in the contract that nothing handles yet (useful for start-up checks and tests). */
  unhandled(): Channel[] {
    return (Object.keys(requestSchemas) as Channel[]).filter((c) => !this.handlers.has(c))
  }

  async dispatch(channel: unknown, args: unknown, ctx: RequestContext): Promise<Result<unknown>> {
    if (typeof channel !== 'string' || !Object.hasOwn(requestSchemas, channel)) {
      return fail('unknown_channel', `Unknown request channel: ${describe(channel)}`)
    }
    const handler = this.handlers.get(channel as Channel)
    if (!handler) return fail('unavailable', `No service handles ${channel} in this build`)
    const schema = requestSchemas[channel as Channel]
    const parsed = schema.safeParse(args ?? {})
    if (!parsed.success) {
      const issues = parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.') || '(args)'}: ${i.message}`)
        .join('; ')
      return fail('invalid_input', `Invalid arguments for ${channel}: ${issues}`)
    }
    try {
      const value = await handler(parsed.data as never, ctx)
      return { ok: true, value: value ?? null }
    } catch (err) {
      return { ok: false, error: toErrorEnvelope(err) }
    }
  }
}

function fail(code: CmdaiError['code'], message: string): Result<never> {
  return { ok: false, error: { code, message } }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 80))
  return typeof value
}
