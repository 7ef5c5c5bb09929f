import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  choiceOf,
  decodeBody,
  encodeBody,
  fitBody,
  planFromSchema,
  sanitizeBody,
  scanStringPiece,
} from './json-scaffold'
import { explanationJsonSchema, generationJsonSchema } from './output-schema'

const limits = { maxCommandChars: 48, maxExplanationChars: 120, maxAssumptions: 2 }

describe('planFromSchema', () => {
  it('plans the generation and explanation schemas, in property order', () => {
    expect(planFromSchema(generationJsonSchema(limits))).toEqual({
      fields: [
        { name: 'command', value: { kind: 'string', maxLength: 48 } },
        { name: 'explanation', value: { kind: 'string', maxLength: 120 } },
        {
          name: 'assumptions',
          value: { kind: 'string-array', maxItems: 2, itemMaxLength: 120 },
        },
        { name: 'needsInput', value: { kind: 'nullable-string', maxLength: 120 } },
      ],
    })
    expect(planFromSchema(explanationJsonSchema(limits))?.fields).toHaveLength(1)
  })

  it('refuses what it cannot force (the caller falls back to a grammar)', () => {
    expect(planFromSchema({ type: 'object', properties: { n: { type: 'number' } } })).toBeNull()
    expect(
      planFromSchema({ type: 'object', properties: { s: { type: 'string', pattern: '^a' } } }),
    ).toBeNull()
    expect(planFromSchema({ type: 'array', items: { type: 'string' } })).toBeNull()
    expect(
      planFromSchema({
        type: 'object',
        properties: { s: { type: 'string' } },
        additionalProperties: false,
      }),
    ).toBeNull()
  })
})

describe('string content', () => {
  it('reads a token as string content up to an unescaped quote', () => {
    expect(scanStringPiece('ls -la')).toEqual({ body: 'ls -la', closed: false, clean: true })
    expect(scanStringPiece('a\\"b"}')).toEqual({ body: 'a\\"b', closed: true, clean: true })
    expect(scanStringPiece('\\u00e9\\n')).toMatchObject({ closed: false, clean: true })
    expect(scanStringPiece('a\nb').clean).toBe(false)
    expect(scanStringPiece('x\\').clean).toBe(false)
    expect(scanStringPiece('\\u12').clean).toBe(false)
    expect(scanStringPiece('\\q').clean).toBe(false)
  })

  it('sanitizes any text into valid JSON string content, keeping valid content as is', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const body = sanitizeBody(text)
        expect(() => decodeBody(body)).not.toThrow()
        expect(sanitizeBody(body)).toBe(body)
      }),
      { numRuns: 2000 },
    )
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (value) => {
        const body = encodeBody(value)
        expect(sanitizeBody(body)).toBe(body)
        expect(decodeBody(body)).toBe(value)
      }),
      { numRuns: 2000 },
    )
    expect(decodeBody(sanitizeBody('say "hi"\\ \n'))).toBe('say "hi"\\ \n')
  })

  it('cuts content at a number of characters, never inside an escape or a surrogate pair', () => {
    expect(fitBody('ab\\"cd', 3)).toEqual({ body: 'ab\\"', count: 3, truncated: true })
    expect(fitBody('😀😀', 1)).toEqual({ body: '😀', count: 1, truncated: true })
    expect(fitBody('abc', 3)).toEqual({ body: 'abc', count: 3, truncated: false })
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.nat(20), (text, room) => {
        const fitted = fitBody(sanitizeBody(text), room)
        const value = decodeBody(fitted.body)
        expect(Array.from(value).length).toBe(fitted.count)
        expect(fitted.count).toBeLessThanOrEqual(room)
      }),
      { numRuns: 1000 },
    )
  })

  it('tells which alternative a token starts', () => {
    expect(choiceOf('"', ['"', 'null'])).toBe(0)
    expect(choiceOf(' "Use', ['"', 'null'])).toBe(0)
    expect(choiceOf('nu', ['"', 'null'])).toBe(1)
    expect(choiceOf('null}', ['"', 'null'])).toBe(1)
    expect(choiceOf('nope', ['"', 'null'])).toBe(-1)
    expect(choiceOf('  ', ['"', 'null'])).toBe(-1)
    expect(choiceOf('],', [',', ']'])).toBe(1)
  })
})
