import { extractSimple, limitFindings, type SimpleDialect } from './simple-frontend'
import type { Finding, Platform, SimpleCommand } from './types'

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
  gps: 'get-process',
  ps: 'get-process',
  sl: 'set-location',
  cd: 'set-location',
  chdir: 'set-location',
  pushd: 'push-location',
  popd: 'pop-location',
}

/**
 * Aliases PowerShell defines only on Windows: on Linux and macOS these names run the native
 * programs (/bin/rm, /bin/ls...), with Unix options (`rm -rf ~`).
 */
const WINDOWS_ONLY_ALIASES = new Set([
  'ac',
  'cat',
  'clear',
  'compare',
  'cp',
  'cpp',
  'diff',
  'kill',
  'lp',
  'ls',
  'man',
  'mount',
  'mv',
  'ps',
  'rm',
  'rmdir',
  'sleep',
  'sort',
  'start',
  'tee',
  'write',
])

/** Environment variables whose meaning is fixed on Windows. */
const PS_VARS: Record<string, string> = {
  'env:systemroot': 'C:\\Windows',
  'env:windir': 'C:\\Windows',
  'env:systemdrive': 'C:',
  'env:programfiles': 'C:\\Program Files',
  'env:programdata': 'C:\\ProgramData',
  'env:appdata': '~\\AppData\\Roaming',
  'env:localappdata': '~\\AppData\\Local',
  'env:userprofile': '~',
  'env:homepath': '~',
  home: '~',
}

/** PowerShell: a tokenizer frontend (backtick escapes, `''` quotes, `$( )`, `( )`, `{ }` blocks). */
export function extractPowershell(
  text: string,
  options: { cwd?: string | null; platform?: Platform } = {},
): {
  commands: SimpleCommand[]
  findings: Finding[]
  parseError: string | null
} {
  const platform = options.platform ?? 'unknown'
  const s = extractSimple(text, PS, { cwd: options.cwd ?? null, vars: PS_VARS })
  for (const cmd of s.commands) {
    const name = cmd.words[0]
    if (!name) continue
    const lower = name.value.toLowerCase()
    // Own keys only: `__proto__` or `constructor` typed as a command is not an alias.
    const alias = Object.hasOwn(PS_ALIASES, lower) ? PS_ALIASES[lower] : undefined
    if (!alias) continue
    if (WINDOWS_ONLY_ALIASES.has(lower) && platform !== 'windows') {
      cmd.nativeName = name
      if (platform !== 'unknown') continue
    }
    cmd.words[0] = { ...name, value: alias }
  }
  return { commands: s.commands, findings: limitFindings(s), parseError: s.parseError }
}
