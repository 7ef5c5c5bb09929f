import { extractSimple, type SimpleDialect } from './simple-frontend'
import type { Finding, SimpleCommand } from './types'

const PS: SimpleDialect = {
  escape: '`',
  singleQuoteDoubling: true,
  nestedOpeners: '({',
  comment: /#/,
  keywords: new Set([
    'if',
    'elseif',
    'else',
    'foreach',
    'for',
    'while',
    'do',
    'until',
    'switch',
    'try',
    'catch',
    'finally',
    'trap',
    'return',
    'throw',
    'exit',
  ]),
  headerKeywords: new Set([
    'function',
    'filter',
    'param',
    'break',
    'continue',
    'class',
    'enum',
    'using',
  ]),
  caseInsensitive: true,
}

/** Built-in PowerShell aliases mapped to the cmdlets the rules know. */
export const PS_ALIASES: Record<string, string> = {
  rm: 'remove-item',
  del: 'remove-item',
  erase: 'remove-item',
  rd: 'remove-item',
  rmdir: 'remove-item',
  ri: 'remove-item',
  cp: 'copy-item',
  copy: 'copy-item',
  cpi: 'copy-item',
  mv: 'move-item',
  move: 'move-item',
  mi: 'move-item',
  iex: 'invoke-expression',
  iwr: 'invoke-webrequest',
  irm: 'invoke-restmethod',
  kill: 'stop-process',
  spps: 'stop-process',
  sc: 'set-content',
  ac: 'add-content',
  ni: 'new-item',
  md: 'new-item',
  mkdir: 'new-item',
  clc: 'clear-content',
  saps: 'start-process',
  start: 'start-process',
  ls: 'get-childitem',
  dir: 'get-childitem',
  gci: 'get-childitem',
  cat: 'get-content',
  gc: 'get-content',
  type: 'get-content',
  echo: 'write-output',
  write: 'write-output',
  '%': 'foreach-object',
  foreach: 'foreach-object',
  '?': 'where-object',
  where: 'where-object',
  sp: 'set-itemproperty',
  rp: 'remove-itemproperty',
  ren: 'rename-item',
  rni: 'rename-item',
  icm: 'invoke-command',
}

/** PowerShell: a tokenizer frontend (backtick escapes, `''` quotes, `$( )`, `( )`, `{ }` blocks). */
export function extractPowershell(text: string): {
  commands: SimpleCommand[]
  findings: Finding[]
  parseError: string | null
} {
  const s = extractSimple(text, PS)
  for (const cmd of s.commands) {
    const name = cmd.words[0]
    if (!name) continue
    const lower = name.value.toLowerCase()
    // Own keys only: `__proto__` or `constructor` typed as a command is not an alias.
    const alias = Object.hasOwn(PS_ALIASES, lower) ? PS_ALIASES[lower] : undefined
    if (alias) cmd.words[0] = { ...name, value: alias }
  }
  return { commands: s.commands, findings: [], parseError: s.parseError }
}
