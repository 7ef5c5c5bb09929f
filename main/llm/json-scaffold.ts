/**
 * The pieces of structured decoding that do not need a model: which JSON schemas can be decoded
 * by forcing their fixed parts (a "plan"), and how the text of string values is checked, escaped
 * and bounded. Everything the decoder emits passes through `sanitizeBody`, so the output is valid
 * JSON whatever the model writes.
 */

export type ValuePlan =
  | { kind: 'string'; maxLength: number }
  | { kind: 'nullable-string'; maxLength: number }
  | { kind: 'string-array'; maxItems: number; itemMaxLength: number }

export interface ObjectPlan {
  fields: Array<{ name: string; value: ValuePlan }>
}

type Schema = Record<string, unknown>

const isObject = (x: unknown): x is Schema =>
  typeof x === 'object' && x !== null && !Array.isArray(x)

function bound(value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : Infinity
}

function stringMax(schema: unknown): number | null {
  if (!isObject(schema) || schema.type !== 'string') return null
  const extra = Object.keys(schema).filter((k) => k !== 'type' && k !== 'maxLength')
  return extra.length ? null : bound(schema.maxLength)
}

function valuePlan(schema: unknown): ValuePlan | null {
  if (!isObject(schema)) return null
  const max = stringMax(schema)
  if (max !== null) return { kind: 'string', maxLength: max }
  if (schema.type === 'array') {
    const itemMax = stringMax(schema.items)
    const extra = Object.keys(schema).filter((k) => !['type', 'items', 'maxItems'].includes(k))
    if (itemMax === null || extra.length) return null
    return { kind: 'string-array', maxItems: bound(schema.maxItems), itemMaxLength: itemMax }
  }
  const alternatives = schema.oneOf ?? schema.anyOf
  if (
    Array.isArray(alternatives) &&
    alternatives.length === 2 &&
    Object.keys(schema).length === 1
  ) {
    const nullIndex = alternatives.findIndex((a) => isObject(a) && a.type === 'null')
    const other = stringMax(alternatives[1 - nullIndex])
    if (nullIndex >= 0 && other !== null) return { kind: 'nullable-string', maxLength: other }
  }
  return null
}

/**
 * A plan for a JSON schema made of an object whose properties are strings (with maxLength),
 * nullable strings or arrays of strings; null for anything else (the caller then falls back to a
 * full JSON-schema grammar). Every property is written, in the schema's order.
 */
export function planFromSchema(schema: unknown): ObjectPlan | null {
  if (!isObject(schema) || schema.type !== 'object' || !isObject(schema.properties)) return null
  const extra = Object.keys(schema).filter((k) => !['type', 'properties', 'required'].includes(k))
  if (extra.length) return null
  const fields: ObjectPlan['fields'] = []
  for (const [name, property] of Object.entries(schema.properties)) {
    const value = valuePlan(property)
    if (!value) return null
    fields.push({ name, value })
  }
  return fields.length ? { fields } : null
}

const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't'])
const HEX4 = /^[0-9a-fA-F]{4}$/

/** Length of the complete JSON escape starting at text[i] (a backslash), or 0 if it is not one. */
function escapeLength(text: string, i: number): number {
  const next = text[i + 1]
  if (next === undefined) return 0
  if (ESCAPES.has(next)) return 2
  if (next === 'u' && HEX4.test(text.slice(i + 2, i + 6))) return 6
  return 0
}

export interface StringPiece {
  /** The text before the closing quote (or all of it), as written. */
  body: string
  /** The text contains an unescaped quote: the string value ends there. */
  closed: boolean
  /** The body is valid JSON string content as written (no control characters, no broken escapes). */
  clean: boolean
}

/** Reads a token's text as the continuation of a JSON string value. */
export function scanStringPiece(text: string): StringPiece {
  let clean = true
  let i = 0
  while (i < text.length) {
    const ch = text.charCodeAt(i)
    if (ch === 0x22) return { body: text.slice(0, i), closed: true, clean }
    if (ch === 0x5c) {
      const n = escapeLength(text, i)
      if (n === 0) clean = false
      i += n || 1
      continue
    }
    if (ch < 0x20) clean = false
    i++
  }
  return { body: text, closed: false, clean }
}

/**
 * Makes any text valid JSON string content: safe characters and complete escapes stay as written,
 * everything else (a bare quote or backslash, a control character) is escaped.
 */
export function sanitizeBody(text: string): string {
  let out = ''
  let i = 0
  while (i < text.length) {
    const ch = text.charCodeAt(i)
    if (ch === 0x5c) {
      const n = escapeLength(text, i)
      out += n ? text.slice(i, i + n) : '\\\\'
      i += n || 1
    } else if (ch === 0x22) {
      out += '\\"'
      i++
    } else if (ch < 0x20) {
      out += JSON.stringify(text[i]).slice(1, -1)
      i++
    } else {
      out += text[i]
      i++
    }
  }
  return out
}

export const decodeBody = (body: string): string => JSON.parse(`"${body}"`) as string
export const encodeBody = (value: string): string => JSON.stringify(value).slice(1, -1)

/**
 * Bounds a piece of (sanitized) string content to `room` more characters (code points, as JSON
 * Schema's maxLength counts them). Returns the content to write and how many characters it adds.
 */
export function fitBody(
  body: string,
  room: number,
): { body: string; count: number; truncated: boolean } {
  const chars = Array.from(decodeBody(body))
  if (chars.length <= room) return { body, count: chars.length, truncated: false }
  const kept = Math.max(0, room)
  return { body: encodeBody(chars.slice(0, kept).join('')), count: kept, truncated: true }
}

const LEADING_JSON_SPACE = /^[ \t\n\r]+/

/**
 * Which alternative (e.g. `"` or `null`) a token's text chooses: the token starts with the
 * alternative or is a prefix of it, after optional JSON whitespace. -1 when it chooses none.
 */
export function choiceOf(text: string, alternatives: readonly string[]): number {
  const t = text.replace(LEADING_JSON_SPACE, '')
  if (!t) return -1
  return alternatives.findIndex((alt) => t.startsWith(alt) || alt.startsWith(t))
}
