import type { z } from 'zod'
import type { historyRequests } from '../../contract/history'

export type * from '../../contract/history'

/** Parsed arguments of a history request. */
export type HistoryRequestsArgs = {
  [C in keyof typeof historyRequests]: z.output<(typeof historyRequests)[C]>
}
