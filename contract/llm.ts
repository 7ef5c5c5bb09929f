import { z } from 'zod'

/** Requests of the `llm` domain. */
export const llmRequests = {} as const satisfies Record<string, z.ZodType>

export interface LlmResults {}

export interface LlmEvents {}
