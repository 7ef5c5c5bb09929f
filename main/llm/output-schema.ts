import { z } from 'zod'
import { CmdaiError, type Generation } from '../../contract'

export interface OutputLimits {
  maxCommandChars: number
  maxExplanationChars: number
  maxAssumptions: number
}

/**
 * The JSON schema every backend must answer with. Property order matters: llama.cpp's grammar
 * emits properties in this order, so the command is complete (and safety-checked) before the
 * explanation starts. Lengths are bounded so that generation always terminates inside maxTokens.
 */
export function generationJsonSchema(limits: OutputLimits) {
  return {
    type: 'object',
    properties: {
      command: { type: 'string', maxLength: limits.maxCommandChars },
      explanation: { type: 'string', maxLength: limits.maxExplanationChars },
      assumptions: {
        type: 'array',
        items: { type: 'string', maxLength: Math.min(120, limits.maxExplanationChars) },
        maxItems: limits.maxAssumptions,
      },
      needsInput: {
        oneOf: [
          { type: 'string', maxLength: Math.min(200, limits.maxExplanationChars) },
          { type: 'null' },
        ],
      },
    },
  } as const
}

/** The explanation-only schema used by `explain`. */
export function explanationJsonSchema(limits: OutputLimits) {
  return {
    type: 'object',
    properties: { explanation: { type: 'string', maxLength: limits.maxExplanationChars } },
  } as const
}

/**
 * A bound on the tokens the schema can need: every character may be its own token, plus JSON
 * punctuation. Generation is stopped there even if a backend ignores the length limits.
 */
export function maxTokensFor(limits: OutputLimits): number {
  const short = Math.min(120, limits.maxExplanationChars)
  return (
    limits.maxCommandChars + limits.maxExplanationChars * 2 + limits.maxAssumptions * short + 64
  )
}

const generationSchema = z.object({
  command: z.string(),
  explanation: z.string(),
  assumptions: z.array(z.string()).default([]),
  needsInput: z.string().nullable().default(null),
})

/** Model output is untrusted input: parse and validate it, with a clear error when it is not valid. */
export function parseGeneration(text: string): Generation {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new CmdaiError(
      'internal',
      `The model's answer is not complete JSON: ${text.slice(0, 200)}`,
    )
  }
  const parsed = generationSchema.safeParse(json)
  if (!parsed.success) {
    throw new CmdaiError(
      'internal',
      `The model's answer does not match the schema: ${parsed.error.issues[0]?.message}`,
    )
  }
  return parsed.data
}

export function parseExplanation(text: string): string {
  try {
    const value = z.object({ explanation: z.string() }).parse(JSON.parse(text))
    return value.explanation
  } catch {
    throw new CmdaiError(
      'internal',
      `The model's explanation is not valid JSON: ${text.slice(0, 200)}`,
    )
  }
}
