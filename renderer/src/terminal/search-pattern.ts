/** Longest search text accepted (a search runs over every line of the scrollback). */
export const MAX_SEARCH_CHARS = 500

/**
 * Says why a search cannot run, or null when it can. Regular expressions run on the page's own
 * thread over every line of the scrollback, so patterns that can backtrack exponentially (a
 * quantified group that itself holds a quantifier or alternatives, as in `(a+)+` or `(a|aa)*`)
 * are refused rather than allowed to freeze the terminal. Hand-rolled: a full safe-regex
 * analysis is not needed for the handful of shapes that blow up.
 */
export function checkSearchPattern(term: string, regex: boolean): string | null {
  if (term.length > MAX_SEARCH_CHARS)
    return `Search text is limited to ${MAX_SEARCH_CHARS} characters`
  if (!regex) return null
  try {
    new RegExp(term)
  } catch (err) {
    return `Invalid pattern: ${err instanceof Error ? err.message.replace(/^Invalid regular expression: /, '') : ''}`
  }
  if (hasNestedRepetition(term)) {
    return 'This pattern can take exponential time (a repeated group that repeats inside)'
  }
  return null
}

/** True when a group that is repeated contains a quantifier or an alternation. */
export function hasNestedRepetition(pattern: string): boolean {
  // One entry per open group: does it contain a quantifier or `|` so far?
  const stack: boolean[] = []
  let inClass = false
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]
    if (ch === '\\') {
      i++
      continue
    }
    if (inClass) {
      if (ch === ']') inClass = false
      continue
    }
    if (ch === '[') inClass = true
    else if (ch === '(') stack.push(false)
    else if (ch === '|') {
      if (stack.length) stack[stack.length - 1] = true
    } else if (ch === ')') {
      const risky = stack.pop() ?? false
      const repeated = isQuantifier(pattern, i + 1)
      if (risky && repeated) return true
      // A group that is itself quantified makes its enclosing group risky too.
      if ((risky || repeated) && stack.length) stack[stack.length - 1] = true
    } else if (isQuantifier(pattern, i) && stack.length) {
      stack[stack.length - 1] = true
    }
  }
  return false
}

function isQuantifier(pattern: string, i: number): boolean {
  const ch = pattern[i]
  if (ch === '*' || ch === '+') return true
  if (ch === '{') return /^\{\d+(,\d*)?\}/.test(pattern.slice(i))
  return false
}
