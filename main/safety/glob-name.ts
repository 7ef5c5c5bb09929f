import { globMatch } from './glob'
import { RULES } from './rules/registry'
import type { Arg, ShellDialect } from './types'

/** Where the system's programs live, which a pattern such as `/???/r?` is meant to reach. */
const BIN_DIRS = [
  '/bin',
  '/sbin',
  '/usr/bin',
  '/usr/sbin',
  '/usr/local/bin',
  '/usr/local/sbin',
  '/opt/homebrew/bin',
]

/** Past this many matches a pattern names "any program" and is rated as such, not one by one. */
const MAX_CANDIDATES = 24

/** Unquoted glob characters: `*`, `?` and a closed `[...]` class (fish has only `*`). */
function globPart(raw: string, dialect: ShellDialect): boolean {
  const bare = raw.replace(/'[^']*'|"[^"]*"/g, '')
  if (dialect === 'fish') return bare.includes('*')
  return /[*?]|\[[^\]]+\]/.test(bare)
}

/**
 * The known programs a command name written as a glob could run (`/???/r?` → rm, …), with the
 * directory it would find them in; null when the name is no glob. The shell expands the pattern
 * before it runs anything, so `/bin/r[m]` is /bin/rm: rated by the names the rules know, those
 * being the programs worth hiding.
 */
export function globNameCandidates(
  nameArg: Arg,
  dialect: ShellDialect,
): { dir: string; names: string[]; tooMany: boolean } | null {
  if (dialect === 'powershell' || !globPart(nameArg.raw, dialect)) return null
  const value = nameArg.value
  const slash = value.lastIndexOf('/')
  const dirPattern = slash >= 0 ? value.slice(0, slash) || '/' : ''
  const basePattern = value.slice(slash + 1)
  // `/b*/rm` names rm whatever the directory turns out to be: rated by its name as it stands.
  if (!globPart(basePattern, dialect)) return null
  let dir = ''
  if (slash >= 0) {
    // `./build-*.sh` and `~/bin/x*` are the user's own files: no system program hides there.
    const bin = BIN_DIRS.find((d) => d === dirPattern || globMatch(dirPattern, d))
    if (!bin) return null
    dir = bin
  }
  const names: string[] = []
  // Cheap checks first: a pattern without `*` or `[` has one length; a literal first character.
  const length = /[*[]/.test(basePattern) ? -1 : basePattern.length
  const first = /^[\w.-]/.test(basePattern) ? basePattern[0] : undefined
  for (const name of RULES.keys()) {
    if (length >= 0 && name.length !== length) continue
    if (first !== undefined && name[0] !== first) continue
    if (!globMatch(basePattern, name)) continue
    names.push(name)
    if (names.length > MAX_CANDIDATES) return { dir, names: [], tooMany: true }
  }
  return names.length ? { dir, names, tooMany: false } : null
}
