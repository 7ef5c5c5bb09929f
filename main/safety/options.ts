import type { Arg } from './types'

/** Flags and operands of one command, parsed the getopt way. */
export interface ParsedOptions {
  /** Single-letter flags, including those in clusters (`-rf` gives r and f). */
  short: Set<string>
  /** Long flags with their value (`--force` gives true, `--output=x` gives 'x'). */
  long: Map<string, string | true>
  /** Values of short options that take one (`-n 5`), keyed by letter. */
  values: Map<string, string>
  operands: Arg[]
  /** Every flag word, for the breakdown. */
  flagWords: Arg[]
}

export interface OptionSpec {
  /** Short options that take a value (`-u user`). */
  shortWithValue?: string
  /** Long options that take a separate value word (`--user root`). */
  longWithValue?: string[]
  /** Stop option parsing at the first operand (POSIX, for wrappers). */
  stopAtOperand?: boolean
}

export function parseOptions(args: Arg[], spec: OptionSpec = {}): ParsedOptions {
  const out: ParsedOptions = {
    short: new Set(),
    long: new Map(),
    values: new Map(),
    operands: [],
    flagWords: [],
  }
  const withValue = spec.shortWithValue ?? ''
  let onlyOperands = false
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    const v = arg.value
    if (onlyOperands || v === '-' || !v.startsWith('-') || (arg.quoted && v === '')) {
      out.operands.push(arg)
      if (spec.stopAtOperand) onlyOperands = true
      continue
    }
    if (v === '--') {
      onlyOperands = true
      continue
    }
    out.flagWords.push(arg)
    if (v.startsWith('--')) {
      const eq = v.indexOf('=')
      if (eq > 0) out.long.set(v.slice(2, eq), v.slice(eq + 1))
      else if (spec.longWithValue?.includes(v.slice(2)) && i + 1 < args.length) {
        out.long.set(v.slice(2), args[++i]!.value)
      } else out.long.set(v.slice(2), true)
      continue
    }
    for (let j = 1; j < v.length; j++) {
      const letter = v[j]!
      out.short.add(letter)
      if (withValue.includes(letter)) {
        const rest = v.slice(j + 1)
        if (rest) out.values.set(letter, rest)
        else if (i + 1 < args.length) out.values.set(letter, args[++i]!.value)
        break
      }
    }
  }
  return out
}

/** True when any of the letters or long names is set. */
export function hasFlag(opts: ParsedOptions, letters: string, ...long: string[]): boolean {
  for (const l of letters) if (opts.short.has(l)) return true
  return long.some((name) => opts.long.has(name))
}
