import { extractSimple, limitFindings, type SimpleDialect } from './simple-frontend'
import type { Finding, SimpleCommand } from './types'

const FISH: SimpleDialect = {
  escape: '\\',
  singleQuoteDoubling: false,
  nestedOpeners: '(',
  comment: /#/,
  keywords: new Set(['and', 'or', 'not', '!', 'begin', 'end', 'if', 'else', 'while']),
  headerKeywords: new Set(['for', 'function', 'switch', 'case', 'return', 'break', 'continue']),
  caseInsensitive: false,
}

/** fish: a tokenizer frontend (fish quoting, `(cmd)` substitution, `set` variables, `and`/`or`). */
export function extractFish(
  text: string,
  options: { cwd?: string | null } = {},
): {
  commands: SimpleCommand[]
  findings: Finding[]
  parseError: string | null
} {
  const s = extractSimple(text, FISH, { cwd: options.cwd ?? null })
  return { commands: s.commands, findings: limitFindings(s), parseError: s.parseError }
}
