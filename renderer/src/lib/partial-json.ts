/**
 * Reads one string field out of a JSON object that is still being streamed, e.g. the
 * `explanation` while the model is writing it. Returns null until the field has started.
 * (The model's output is grammar-constrained JSON; the complete result arrives at the end.)
 */
export function partialStringField(text: string, field: string): string | null {
  const match = new RegExp(`"${field}"\\s*:\\s*"`).exec(text)
  if (!match) return null
  let out = ''
  for (let i = match.index + match[0].length; i < text.length; i++) {
    const ch = text[i]!
    if (ch === '"') return out
    if (ch !== '\\') {
      out += ch
      continue
    }
    const next = text[i + 1]
    if (next === undefined) return out
    i++
    if (next === 'n') out += '\n'
    else if (next === 't') out += '\t'
    else if (next === 'r') out += '\r'
    else if (next === 'u') {
      const hex = text.slice(i + 1, i + 5)
      if (hex.length < 4) return out
      out += String.fromCharCode(Number.parseInt(hex, 16))
      i += 4
    } else out += next
  }
  return out
}
