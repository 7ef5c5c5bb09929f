import {
  decodeBase32,
  decodeBase64,
  decodeEscapes,
  decodeHexDump,
  gunzip,
  MAX_DECODED,
  printfFormat,
  reverseLines,
  translate,
} from './decode'
import {
  DYN,
  type Arg,
  type FanOut,
  type SimpleCommand,
  type Span,
  type StdinSource,
} from './types'
import { printedText, type Language } from './code-scan'

/**
 * What a pipeline writes to its standard output, when the text of the command alone decides it:
 * `echo`, `printf`, here-docs and here-strings, passed through decoders (`base64 -d`, `xxd -r`,
 * `rev`, `tr`, `gunzip`, escapes). This is how `echo cm0gLXJmIC8= | base64 -d | sh` is seen to run
 * `rm -rf /`. Anything the engine cannot compute gives null, and the consumer fails closed.
 */
export interface StaticText {
  text: string
  /** True when a decoding step produced the text (so it was hidden from a reader). */
  decoded: boolean
}

const NETWORK = new Set(['curl', 'wget', 'fetch', 'http', 'https', 'aria2c', 'nc', 'ncat', 'xh'])
const PASS_THROUGH = new Set(['cat', 'tee', 'head', 'tail', 'sort', 'uniq', 'dd', 'stdbuf', 'tac'])

export function baseName(name: string): string {
  const slash = Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\'))
  const base = slash >= 0 ? name.slice(slash + 1) : name
  return base.replace(/\.exe$/i, '')
}

/** Wrappers that run the rest of their words unchanged, with their options that take a value. */
const PREFIX_WRAPPERS: Record<string, RegExp> = {
  sudo: /^-[ugCDhprtUTa]$/,
  doas: /^-[uC]$/,
  env: /^-[uCS]$/,
  command: /^$/,
  builtin: /^$/,
  exec: /^-a$/,
  nohup: /^$/,
  time: /^$/,
  nice: /^-n$/,
  stdbuf: /^$/,
  timeout: /^-[sk]$/,
}

/** The words of the command a chain of wrappers runs (`sudo -u x env A=1 echo hi` → echo hi). */
function unwrapped(words: Arg[]): Arg[] {
  let w = words
  for (let guard = 0; guard < 8; guard++) {
    const name = baseName(w[0]?.value ?? '')
    const valueFlag = Object.hasOwn(PREFIX_WRAPPERS, name) ? PREFIX_WRAPPERS[name] : undefined
    if (!valueFlag || w.length < 2) return w
    let i = 1
    while (i < w.length) {
      const v = w[i]!.value
      if (v === '--') {
        i++
        break
      }
      if (name === 'env' && /^[A-Za-z_]\w*=/.test(v)) i++
      else if (v.startsWith('-')) i += valueFlag.test(v) ? 2 : 1
      else if (name === 'timeout' && /^\d/.test(v)) i++
      else break
    }
    w = w.slice(i)
  }
  return w
}

/** The input a command reads before any pipe: its here-doc or here-string, if literal. */
function ownInput(cmd: SimpleCommand): StaticText | null | undefined {
  for (const r of cmd.redirects) {
    if (r.op === '<' && r.target?.produced) return { ...r.target.produced }
    if (r.op === '<' && r.target) return null
    if (!r.body) continue
    if (!r.body.literal || r.body.text.includes(DYN)) return null
    // A here-string gets a newline appended; a here-doc body already ends with one.
    return { text: r.op === '<<<' ? r.body.text + '\n' : r.body.text, decoded: false }
  }
  return undefined
}

/** The output of one simple command given its input (null input: nothing known was piped in). */
export function commandOutput(
  cmd: SimpleCommand,
  piped: StaticText | null | undefined,
  dialect: string,
): StaticText | null {
  const words = unwrapped(cmd.words)
  const first = words[0]
  if (!first || first.value.includes(DYN)) return null
  const own = ownInput(cmd)
  const input = own === undefined ? piped : own
  const name = baseName(first.value)
  const args = words.slice(1).map((w) => w.value)
  const decodedArgs = words.slice(1).some((w) => w.decoded)
  const out = (text: string, decoded: boolean): StaticText | null =>
    text.length > MAX_DECODED ? null : { text, decoded: decoded || decodedArgs }
  if (name === 'cat' && words.slice(1).some((w) => w.produced)) {
    // `cat <(echo …)`: what the process substitutions print.
    if (words.slice(1).some((w) => !w.produced && !w.value.startsWith('-'))) return null
    const parts = words.slice(1).filter((w) => w.produced)
    return out(
      parts.map((w) => w.produced!.text).join(''),
      parts.some((w) => w.produced!.decoded),
    )
  }
  if (args.some((a) => a.includes(DYN)) && name !== 'cat') return null
  const printed = printedByInterpreter(name, args)
  if (printed !== undefined) return printed === null ? null : out(printed, false)
  switch (name) {
    case 'echo': {
      let i = 0
      let newline = true
      let escapes = dialect === 'sh' || dialect === 'zsh'
      while (i < args.length && /^-[neE]+$/.test(args[i]!)) {
        if (args[i]!.includes('n')) newline = false
        if (args[i]!.includes('e')) escapes = true
        if (args[i]!.includes('E')) escapes = false
        i++
      }
      const raw = args.slice(i).join(' ')
      const text = escapes ? decodeEscapes(raw, 'echo') : raw
      return out(text + (newline ? '\n' : ''), text !== raw)
    }
    case 'printf': {
      const rest = args[0] === '--' ? args.slice(1) : args
      if (!rest.length || rest[0] === '-v') return null
      const text = printfFormat(rest[0]!, rest.slice(1))
      return out(text, /\\[0-7xuU]/.test(rest[0]!) || rest[0]!.includes('%b'))
    }
    case 'print': {
      // zsh: options come first (`print -r -- …`).
      let i = 0
      while (i < args.length && /^-[a-zA-Z]+$/.test(args[i]!)) i++
      if (args[i] === '--') i++
      return out(args.slice(i).join(' ') + '\n', false)
    }
    case 'dirname':
    case 'basename': {
      const path = args.find((a) => !a.startsWith('-'))
      if (path === undefined) return null
      const trimmed = path.replace(/\/+$/, '') || '/'
      const cut = trimmed.lastIndexOf('/')
      const text =
        name === 'dirname'
          ? cut < 0
            ? '.'
            : trimmed.slice(0, cut) || '/'
          : trimmed.slice(cut + 1) || '/'
      return out(text + '\n', false)
    }
    case 'string': {
      // fish's string builtin: join, upper, lower, trim of literal arguments.
      const [sub, ...rest] = args
      let first = 0
      while (first < rest.length && /^-/.test(rest[first]!)) first++
      const items = rest.slice(first)
      if (sub === 'join' && items.length >= 1)
        return out(items.slice(1).join(items[0]!) + '\n', false)
      if (sub === 'upper') return out(items.map((x) => x.toUpperCase()).join('\n') + '\n', false)
      if (sub === 'lower') return out(items.map((x) => x.toLowerCase()).join('\n') + '\n', false)
      if (sub === 'trim') return out(items.map((x) => x.trim()).join('\n') + '\n', false)
      return null
    }
    case 'base64':
    case 'base32':
    case 'basenc': {
      const decode = args.some((a) => /^(-d|-D|--decode)$/.test(a) || /^-[a-zA-Z]*d/.test(a))
      const files = args.filter((a) => !a.startsWith('-'))
      if (files.length && files[0] !== '-') return null
      if (!input) return null
      if (!decode) return out(Buffer.from(input.text).toString('base64'), input.decoded)
      const b32 = name === 'base32' || args.includes('--base32')
      const text = b32 ? decodeBase32(input.text) : decodeBase64(input.text)
      return text === null ? null : out(text, true)
    }
    case 'openssl': {
      const base64 = args.includes('base64') || args.includes('-base64') || args.includes('-a')
      if (!base64 || !args.includes('-d') || !input) return null
      const text = decodeBase64(input.text)
      return text === null ? null : out(text, true)
    }
    case 'xxd': {
      if (!args.some((a) => /^-[a-z]*r/.test(a)) || !input) return null
      const plain = args.some((a) => /^-[a-z]*p/.test(a) || a === '-ps' || a === '-plain')
      const text = decodeHexDump(input.text, plain)
      return text === null ? null : out(text, true)
    }
    case 'rev':
      if (args.some((a) => !a.startsWith('-')) || !input) return null
      return out(reverseLines(input.text.replace(/\n$/, '')) + '\n', true)
    case 'tr': {
      if (!input) return null
      const flags = args.filter((a) => /^-[a-zA-Z]+$/.test(a)).join('')
      const sets = args.filter((a) => !/^-[a-zA-Z]+$/.test(a))
      if (/[cCs]/.test(flags)) return null
      const text = flags.includes('d')
        ? translate(input.text, sets[0] ?? '', null)
        : sets.length === 2
          ? translate(input.text, sets[0]!, sets[1]!)
          : null
      return text === null ? null : out(text, true)
    }
    case 'gunzip':
    case 'zcat':
    case 'gzip':
    case 'uncompress': {
      if (name === 'gzip' && !args.some((a) => /^-[a-z]*d|^--decompress$/.test(a))) return null
      if (args.some((a) => !a.startsWith('-')) || !input) return null
      const text = gunzip(input.text)
      return text === null ? null : out(text, true)
    }
    default:
      if (PASS_THROUGH.has(name)) {
        // Files or counts we cannot see make the output unknown; a bare filter passes it on.
        const operands = args.filter((a) => !a.startsWith('-') && !/^\d+$/.test(a))
        if (operands.length && !(name === 'tee' || name === 'dd')) return null
        if (name === 'dd' && args.some((a) => a.startsWith('if='))) return null
        return input ?? null
      }
      return null
  }
}

const PRINTING: Record<string, [RegExp, Language]> = {
  python: [/^-c$/, 'python'],
  python3: [/^-c$/, 'python'],
  perl: [/^-[a-zA-Z]*e$/, 'perl'],
  ruby: [/^-e$/, 'ruby'],
  node: [/^(-e|--eval|-p|--print)$/, 'node'],
  php: [/^-r$/, 'php'],
  awk: [/^BEGIN/, 'awk'],
}

/** What a one-liner that only prints literals prints (`python3 -c 'print("…")'`). */
function printedByInterpreter(name: string, args: string[]): string | null | undefined {
  const entry = Object.hasOwn(PRINTING, name) ? PRINTING[name] : undefined
  if (!entry) return undefined
  const [flag, lang] = entry
  const code =
    lang === 'awk'
      ? args.find((a) => flag.test(a.trim()))
      : args[args.findIndex((a) => flag.test(a)) + 1]
  if (code === undefined) return undefined
  return printedText(code, lang)
}

/** The output of a pipeline stage that may hold several commands (`(crontab -l; echo x)`). */
export function stageOutput(
  stage: SimpleCommand[],
  piped: StaticText | null | undefined,
  dialect: string,
): { known: StaticText | null; partial: boolean } {
  let text = ''
  let decoded = false
  let partial = false
  let any = false
  for (const cmd of stage) {
    const o = commandOutput(cmd, piped, dialect)
    if (!o) {
      partial = true
      continue
    }
    any = true
    text += o.text
    decoded ||= o.decoded
  }
  return { known: any ? { text, decoded } : null, partial }
}

/** Whether a pipeline stage lists many resources (instances, buckets, processes, namespaces). */
export function listing(cmd: SimpleCommand): boolean {
  const w = cmd.words.map((a) => a.value)
  const name = baseName(w[0] ?? '')
  const rest = w.slice(1)
  switch (name) {
    case 'aws':
      return rest.some((x) => /^(ls|list-[\w-]+|describe-[\w-]+)$/.test(x))
    case 'gcloud':
    case 'az':
    case 'doctl':
    case 'linode-cli':
    case 'heroku':
    case 'hcloud':
    case 'oci':
      return rest.some((x) => /^(list|ls|[\w-]+:list)$/.test(x))
    case 'gsutil':
      return rest[0] === 'ls'
    case 'helm':
      return rest[0] === 'list' || rest[0] === 'ls'
    case 'terraform':
    case 'tofu':
      return rest[0] === 'state' && rest[1] === 'list'
    case 'kubectl':
    case 'oc':
      return rest.includes('get')
    case 'docker':
    case 'podman':
      return rest.some((x) => /^(ps|images|ls)$/.test(x))
    case 'ps':
      return true
    case 'brew':
    case 'pip':
    case 'pip3':
    case 'npm':
      return rest[0] === 'list' || rest[0] === 'ls' || rest[0] === 'freeze'
    default:
      return false
  }
}

/** Stages that keep only some of a listing (`grep`, `head -1`, `awk '/x/'`, `jq select`). */
function selective(cmd: SimpleCommand): boolean {
  const w = cmd.words.map((a) => a.value)
  const name = baseName(w[0] ?? '')
  if (name === 'grep' || name === 'egrep' || name === 'fgrep' || name === 'rg') return true
  if (name === 'head' || name === 'sed') return true
  if (name === 'awk' || name === 'gawk')
    return w.some((x, i) => i > 0 && /^\s*\/|\$\d+\s*[=!~]=?|~/.test(x))
  if (name === 'jq') return w.some((x) => /select\(/.test(x))
  return false
}

/** Whether what a pipeline produces is a list of many resources, and whether it was narrowed. */
export function fanOutOf(pipeline: SimpleCommand[]): FanOut | undefined {
  const listed = pipeline.findIndex(listing)
  if (listed < 0) return undefined
  // Filters inside the listing itself (`aws ec2 describe-instances --filters …`) narrow it too.
  const narrowed =
    pipeline.slice(listed + 1).some(selective) ||
    pipeline[listed]!.words.some((a) => /^--(filters?|selector)\b|^-l$/.test(a.value))
  return narrowed ? 'selected' : 'all'
}

/**
 * Where a command's standard input comes from, given the pipeline stages before it: literal text
 * (computed statically, possibly decoded), the network, a decoder whose input is unknown, a file,
 * or another command's output. Stages are added one by one, so a pipeline of any length costs
 * time in proportion to its length.
 */
export class PipeAccumulator {
  private readonly all: SimpleCommand[] = []
  private known: StaticText | null | undefined = undefined
  private partial = false
  private stages = 0
  private network = false
  private decoder = false

  constructor(private readonly dialect: string) {}

  get empty(): boolean {
    return this.stages === 0
  }

  push(stage: SimpleCommand[]): void {
    this.stages++
    const o = stageOutput(stage, this.known, this.dialect)
    this.known = o.known
    this.partial ||= o.partial
    for (const c of stage) {
      this.all.push(c)
      const name = baseName(c.words[0]?.value ?? '')
      if (NETWORK.has(name)) this.network = true
      if (isDecoder(c)) this.decoder = true
    }
  }

  source(): StdinSource | null {
    const first = this.all[0]
    const last = this.all[this.all.length - 1]
    if (!first || !last) return null
    const span: Span = { start: first.span.start, end: last.span.end }
    const known = this.known
    if (known && !this.partial)
      return { kind: 'literal', text: known.text, span, decoded: known.decoded }
    // The stages just before (a pipeline of thousands of stages is not a pipeline people write).
    const window = this.all.length > 64 ? this.all.slice(-64) : [...this.all]
    const from = { pipeline: window, ...(known ? { known } : {}) }
    if (this.network) return { kind: 'network', span, ...from }
    if (this.decoder) return { kind: 'decoded', span, ...from }
    const lastName = baseName(last.words[0]?.value ?? '')
    if (/^(cat|head|tail)$/.test(lastName) && last.words.length > 1 && this.stages === 1)
      return { kind: 'file', span, ...from }
    const words: Arg[] = last.words
    return { kind: 'generated', span, words, ...from }
  }
}

/** Commands that turn an encoding back into text (their input being unknown here). */
export function isDecoder(cmd: SimpleCommand): boolean {
  const w = cmd.words.map((a) => a.value)
  const name = baseName(w[0] ?? '')
  const has = (re: RegExp) => w.slice(1).some((x) => re.test(x))
  switch (name) {
    case 'base64':
    case 'base32':
    case 'basenc':
      return has(/^(-d|-D|--decode)$|^-[a-zA-Z]*d/)
    case 'xxd':
      return has(/^-[a-z]*r/)
    case 'openssl':
      return has(/^-d$/)
    case 'gunzip':
    case 'zcat':
    case 'uncompress':
    case 'rev':
      return true
    case 'tr':
      return w.length > 2
    case 'gzip':
      return has(/^-[a-z]*d|^--decompress$/)
    default:
      return false
  }
}
