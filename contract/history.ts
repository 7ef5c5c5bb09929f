import { z } from 'zod'

/** Requests of the `history` domain. */
export const historyRequests = {} as const satisfies Record<string, z.ZodType>

export interface HistoryResults {}

export interface HistoryEvents {}
