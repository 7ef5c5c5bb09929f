import type {
  Channel,
  CmdaiBridge,
  EventName,
  Events,
  RequestArgs,
  RequestResult,
} from '../../../contract'
import { CmdaiError } from '../../../contract/errors'

/** The renderer's view of the contract: promises that resolve with the value or throw CmdaiError. */
export interface Api {
  call<C extends Channel>(channel: C, args: RequestArgs<C>): Promise<RequestResult<C>>
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void
}

export function createApi(bridge: CmdaiBridge): Api {
  return {
    async call(channel, args) {
      const result = await bridge.invoke(channel, args)
      if (!result.ok) throw new CmdaiError(result.error.code, result.error.message)
      return result.value
    },
    on: (event, listener) => bridge.on(event, listener),
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message
  return String(err)
}
