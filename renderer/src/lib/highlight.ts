export type TokenKind =
  'command' | 'flag' | 'string' | 'variable' | 'operator' | 'comment' | 'text' | 'space'

export interface Token {
  kind: TokenKind
  text: string
  start: number
}

const OPERATORS = [
  '&&',
  '||',
  ';;',
  '|&',
  '>>',
  '<<<',
  '<<',
  '&>',
  '2>',
  '|',
  ';',
  '&',
  '>',
  '<',
  '(',
  ')',
]

/**
 * A small lexer for showing a shell command with colours. It is for display only: every safety
 * decision comes from the real parser in main.
 */
export function highlightShell(command: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  let expectCommand = true
  while (i < command.length) {
    const start = i
    const ch = command[i]!
    if (/\s/.test(ch)) {
      while (i < command.length && /\s/.test(command[i]!)) i++
      if (command.slice(start, i).includes('\n')) expectCommand = true
      tokens.push({ kind: 'space', text: command.slice(start, i), start })
      continue
    }
    if (ch === '#' && (start === 0 || /\s/.test(command[start - 1]!))) {
      const end = command.indexOf('\n', i)
      i = end === -1 ? command.length : end
      tokens.push({ kind: 'comment', text: command.slice(start, i), start })
      continue
    }
    const op = OPERATORS.find((o) => command.startsWith(o, i))
    if (op) {
      i += op.length
      tokens.push({ kind: 'operator', text: op, start })
      expectCommand = ['&&', '||', '|', '|&', ';', '&', '('].includes(op)
      continue
    }
    // A word: runs until whitespace or an operator, keeping quoted parts together.
    let quoted = false
    while (i < command.length) {
      const c = command[i]!
      if (c === "'" || c === '"') {
        quoted = true
        const close = findClosingQuote(command, i)
        i = close
        continue
      }
      if (c === '\\') {
        i += 2
        continue
      }
      if (/\s/.test(c) || OPERATORS.some((o) => command.startsWith(o, i))) break
      i++
    }
    i = Math.min(i, command.length)
    const text = command.slice(start, i)
    let kind: TokenKind = 'text'
    if (expectCommand && !/^\w+=/.test(text)) kind = 'command'
    else if (/^-/.test(text)) kind = 'flag'
    else if (quoted && /^['"]/.test(text)) kind = 'string'
    else if (/^\$/.test(text)) kind = 'variable'
    if (kind === 'command' || !/^\w+=/.test(text)) expectCommand = false
    tokens.push({ kind, text, start })
  }
  return tokens
}

function findClosingQuote(text: string, open: number): number {
  const quote = text[open]
  let i = open + 1
  while (i < text.length) {
    if (quote === '"' && text[i] === '\\') {
      i += 2
      continue
    }
    if (text[i] === quote) return i + 1
    i++
  }
  return text.length
}
