import type { CommandBreakdown, CommandPart, ShellDialect } from '../../contract/safety'
import { explainCommand } from '../safety'
import type { MatchOptions } from './suite-schema'

/**
 * Compares commands by their parsed structure (the safety engine's parse: program, subcommand,
 * flags, operands, redirects, how parts connect), so `ls -la` matches `ls -al`, `tar -czf a.tgz
 * dir/` matches `tar -zcf a.tgz ./dir`, and quoting does not matter. The safety engine must be
 * initialised (`initSafety`) first.
 */

/** Programs whose single-dash options are words (`find -name`), never clusters of letters. */
const WORD_OPTION_PROGRAMS = new Set([
  'find',
  'java',
  'javac',
  'gcc',
  'g++',
  'cc',
  'clang',
  'ffmpeg',
  'ffprobe',
  'convert',
  'magick',
  'openssl',
  'go',
  'ip',
  'iptables',
  'nft',
  'xargs',
  'tcpdump',
])

/** A part of the parse with its flags split and operands normalised (the span is not compared). */
export type NormalPart = Omit<CommandPart, 'span'>

export interface NormalCommand {
  parts: NormalPart[]
  parseError: string | null
}

/** `~`, `$HOME`, `${HOME}` are one home; `./x` is `x`; a trailing slash does not matter. */
export function normalizeOperand(word: string): string {
  let w = word.replace(/^(\$HOME|\$\{HOME\})(?=\/|$)/, '~')
  while (w.startsWith('./') && w.length > 2) w = w.slice(2)
  if (w.length > 1 && w.endsWith('/')) w = w.replace(/\/+$/, '') || '/'
  return w
}

/** Splits flags into comparable atoms: `-la` -> -l -a, `-n5` -> -n + operand 5, `--x=y` -> --x + y. */
export function splitFlag(program: string, flag: string): { flags: string[]; values: string[] } {
  if (flag.startsWith('--')) {
    const eq = flag.indexOf('=')
    return eq > 2
      ? { flags: [flag.slice(0, eq)], values: [flag.slice(eq + 1)] }
      : { flags: [flag], values: [] }
  }
  if (!flag.startsWith('-') || flag.length <= 2 || WORD_OPTION_PROGRAMS.has(program))
    return { flags: [flag], values: [] }
  const flags: string[] = []
  const body = flag.slice(1)
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!
    if (/[0-9=]/.test(ch) && flags.length) {
      const value = body.slice(ch === '=' ? i + 1 : i)
      return { flags, values: value ? [value] : [] }
    }
    flags.push(`-${ch}`)
  }
  return { flags, values: [] }
}

function normalPart(part: CommandPart): NormalPart {
  const program = part.program.split('/').pop() ?? part.program
  const flags: string[] = []
  const targets: string[] = []
  for (const flag of part.flags) {
    const split = splitFlag(program, flag)
    flags.push(...split.flags)
    targets.push(...split.values.map(normalizeOperand))
  }
  targets.push(...part.targets.map(normalizeOperand))
  return {
    program,
    subcommand: part.subcommand,
    flags,
    targets,
    via: part.via,
    redirects: part.redirects.map((r) => r.replace(/\s+/g, ' ').trim()),
    connector: part.connector,
  }
}

export function normalizeBreakdown(breakdown: CommandBreakdown): NormalCommand {
  return {
    parts: breakdown.parts.map(normalPart),
    parseError: breakdown.parseError ?? null,
  }
}

export function parseStructure(command: string, shell: ShellDialect = 'bash'): NormalCommand {
  return normalizeBreakdown(explainCommand(command, shell))
}

const sorted = (xs: readonly string[]) => [...xs].sort()
const sameList = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x, i) => x === b[i])
const sameSet = (a: readonly string[], b: readonly string[]) =>
  sameList([...new Set(a)].sort(), [...new Set(b)].sort())

function sameFlags(answer: string[], accepted: string[], mode: MatchOptions['flags']): boolean {
  if (mode === 'ignore') return true
  if (mode === 'subset') {
    const have = new Set(answer)
    return accepted.every((f) => have.has(f))
  }
  return sameSet(answer, accepted)
}

function sameTargets(answer: string[], accepted: string[], mode: MatchOptions['targets']) {
  if (mode === 'ignore') return true
  if (mode === 'ordered') return sameList(answer, accepted)
  return sameList(sorted(answer), sorted(accepted))
}

/** Why `answer` does not match `accepted`, or null when it does. */
export function structuralDifference(
  answer: NormalCommand,
  accepted: NormalCommand,
  options: MatchOptions,
): string | null {
  if (answer.parseError) return `the answer does not parse: ${answer.parseError}`
  if (answer.parts.length !== accepted.parts.length)
    return `${answer.parts.length} program(s) instead of ${accepted.parts.length}`
  for (let i = 0; i < accepted.parts.length; i++) {
    const a = answer.parts[i]!
    const b = accepted.parts[i]!
    const where = accepted.parts.length > 1 ? ` (part ${i + 1})` : ''
    if (a.program !== b.program) return `runs ${a.program} instead of ${b.program}${where}`
    if (a.connector !== b.connector)
      return `joined by ${a.connector ?? 'nothing'} instead of ${b.connector ?? 'nothing'}${where}`
    if (!sameList(a.via, b.via))
      return `runs through ${a.via.join(' ') || 'nothing'} instead of ${b.via.join(' ') || 'nothing'}${where}`
    if (a.subcommand !== b.subcommand)
      return `subcommand ${a.subcommand ?? 'none'} instead of ${b.subcommand ?? 'none'}${where}`
    if (!sameFlags(a.flags, b.flags, options.flags))
      return `flags ${a.flags.join(' ') || 'none'} instead of ${b.flags.join(' ') || 'none'}${where}`
    if (!sameTargets(a.targets, b.targets, options.targets))
      return `operands ${a.targets.join(' ') || 'none'} instead of ${b.targets.join(' ') || 'none'}${where}`
    if (!sameSet(a.redirects, b.redirects))
      return `redirects ${a.redirects.join(' ') || 'none'} instead of ${b.redirects.join(' ') || 'none'}${where}`
  }
  return null
}

/** The first accepted command the answer matches, or the closest miss's reason. */
export function matchAccepted(
  answer: string,
  accepted: readonly string[],
  options: MatchOptions,
  shell: ShellDialect = 'bash',
): { matched: string | null; reason: string | null } {
  const parsed = parseStructure(answer, shell)
  let reason: string | null = null
  for (const candidate of accepted) {
    const diff = structuralDifference(parsed, parseStructure(candidate, shell), options)
    if (diff === null) return { matched: candidate, reason: null }
    reason ??= diff
  }
  return { matched: null, reason }
}
