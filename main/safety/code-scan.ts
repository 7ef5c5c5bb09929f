import { decodeBase64, decodeEscapes, decodeHexDump, translate } from './decode'
import { DYN } from './types'

/**
 * A small scanner for interpreter one-liners (`python -c`, `node -e`, `perl -e`, `ruby -e`,
 * `php -r`, `lua -e`, `Rscript -e`, `osascript -e`, awk programs, PowerShell .NET calls). It is
 * not a parser of those languages: it tokenises strings, names and brackets well enough to find
 * calls that run shell commands or delete files, and evaluates their arguments when they are
 * literals or well-known paths (`os.path.expanduser("~")`, `require('os').homedir()`,
 * `Dir.home`, `$ENV{HOME}`) or decodable (`base64.b64decode('…')`). Whatever it cannot evaluate
 * becomes an unknown value, which the rules rate as such.
 */
export type Language =
  'python' | 'node' | 'perl' | 'ruby' | 'php' | 'lua' | 'r' | 'osascript' | 'awk' | 'powershell'

export type CodeAction =
  /** A shell command the code runs (`os.system("…")`, backticks, `do shell script`). */
  | { kind: 'shell'; text: string; decoded: boolean }
  /** A path the code deletes. */
  | { kind: 'delete'; path: string; recursive: boolean; narrowed: boolean }
  /** Code of the same language run from a string (`exec("…")`). */
  | { kind: 'code'; text: string; decoded: boolean }
  | { kind: 'obfuscated' }
  | { kind: 'remote-code' }
  | { kind: 'writes' }
  /** A file the code writes (rated by where it is). */
  | { kind: 'write'; path: string }
  | { kind: 'empty-trash' }
  | { kind: 'power' }
  /** Processes started in a loop that never ends (`fork while 1`, `while True: os.fork()`). */
  | { kind: 'fork-bomb' }

interface Token {
  t: 'name' | 'str' | 'punct' | 'shell'
  v: string
  decoded?: boolean
}

/** A value an expression evaluates to: text (with DYN for unknown parts) or a list of them. */
type Value = { text: string; decoded: boolean } | { list: string[]; decoded: boolean } | null

const SHELL_CALLS: Record<Language, RegExp> = {
  python:
    /^(os\.system|os\.popen|subprocess\.(run|call|check_call|check_output|Popen|getoutput|getstatusoutput)|commands\.getoutput|pty\.spawn|os\.(exec|spawn)\w*|run|call|check_output|check_call|Popen|system|popen|getoutput)$/,
  node: /(^|\.)(exec|execSync|spawn|spawnSync|execFile|execFileSync|execa|execaSync|Command|run)$/,
  perl: /^(system|exec|readpipe|qx)$/,
  ruby: /^(system|exec|spawn|IO\.popen|Open3\.\w+|Kernel\.(system|exec|spawn)|popen)$/,
  php: /^(system|exec|shell_exec|passthru|popen|proc_open|pcntl_exec)$/,
  lua: /^(os\.execute|io\.popen)$/,
  r: /^(system|system2|shell)$/,
  osascript: /^$/,
  awk: /^system$/,
  powershell: /^$/,
}
const DELETE_CALLS: Record<string, boolean> = {
  // name (last segments) -> recursive
  'shutil.rmtree': true,
  rmtree: true,
  remove_tree: true,
  'os.remove': false,
  'os.unlink': false,
  'os.rmdir': false,
  'os.removedirs': true,
  unlink: false,
  rmdir: false,
  rmSync: false,
  rm: false,
  rmdirSync: false,
  unlinkSync: false,
  removeSync: true,
  remove: true,
  emptyDirSync: true,
  emptyDir: true,
  rimraf: true,
  'rimraf.sync': true,
  'FileUtils.rm_rf': true,
  'FileUtils.rm_r': true,
  'FileUtils.remove_dir': true,
  'FileUtils.remove_entry': true,
  'FileUtils.remove_entry_secure': true,
  'FileUtils.rm': false,
  'FileUtils.rm_f': false,
  'File.delete': false,
  'Dir.rmdir': false,
  'Dir.delete': false,
  'Deno.remove': false,
  'Deno.removeSync': false,
  'file.remove': false,
  'os.remove ': false,
  '[IO.Directory]::Delete': false,
  '[IO.File]::Delete': false,
  'FileSystem]::DeleteDirectory': true,
}

/** `import subprocess as sp`, `from shutil import rmtree as r`: names as the library spells them. */
function importAliases(code: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const m of code.matchAll(/\bimport\s+([\w.]+)\s+as\s+(\w+)/g)) out.set(m[2]!, m[1]!)
  for (const m of code.matchAll(/\bfrom\s+([\w.]+)\s+import\s+([\w\s,]+)/g))
    for (const part of m[2]!.split(',')) {
      const [name, alias] = part.trim().split(/\s+as\s+/)
      if (name) out.set(alias ?? name, `${m[1]}.${name}`)
    }
  for (const m of code.matchAll(
    /\b(?:const|let|var)\s+(\w+)\s*=\s*require\(\s*['"]([\w:/-]+)['"]\s*\)/g,
  ))
    out.set(m[1]!, m[2]!.replace(/^node:/, '').replace('child_process', 'child_process'))
  return out
}

/** A key's own value (never Object.prototype's `toString` or `__proto__`). */
function own<T>(map: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined
}

/** The words given after the code (`node -e CODE a b`), while one scan runs. */
let currentArgv: string[] = []

/** A loop that never ends by its condition: `while 1`, `while True:`, `for(;;)`, `loop {`. */
const ENDLESS_LOOP =
  /\bwhile\s*\(?\s*(1|true|True|!0|fork)\b\s*\)?\s*[:{;)]?|\bfor\s*\(\s*;\s*;\s*\)|\bloop\s*(\{|do\b)|\buntil\s*\(?\s*(0|false)\b|\bsetInterval\s*\(/
/** Calls that start a process and return at once (a blocking `system` in a loop is no bomb). */
const SPAWN_CALL = /\bfork\b|\bspawn\s*\(|\bPopen\s*\(|\bProcess\s*\([^)]*\)\s*\.start\s*\(/

/**
 * A fork bomb in an interpreter one-liner: processes started in an endless loop multiply until
 * the machine stalls, as `:(){ :|:& };:` does. Strings are left out (`print "fork" while 0`).
 */
function forkBomb(code: string): boolean {
  const bare = code.replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"/g, '""')
  return ENDLESS_LOOP.test(bare) && SPAWN_CALL.test(bare)
}

export function scanCode(
  code: string,
  lang: Language,
  depth = 0,
  argv: string[] = [],
): CodeAction[] {
  currentArgv = argv
  if (lang !== 'osascript' && lang !== 'powershell' && forkBomb(code))
    return [{ kind: 'fork-bomb' }]
  const aliases = lang === 'python' || lang === 'node' ? importAliases(code) : null
  const tokens = tokenize(code, lang).map((t) => {
    if (!aliases?.size || t.t !== 'name') return t
    const [head, ...rest] = t.v.split('.')
    const full = aliases.get(head!)
    return full ? { ...t, v: [full, ...rest].join('.') } : t
  })
  const actions: CodeAction[] = []
  const traversals: string[] = []
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!
    if (tok.t === 'shell') {
      actions.push({ kind: 'shell', text: tok.v, decoded: tok.decoded ?? false })
      continue
    }
    if (tok.t === 'str' && lang === 'osascript') {
      continue
    }
    if (tok.t !== 'name') continue
    const name = tok.v
    const next = tokens[i + 1]
    if (lang === 'osascript') {
      if (/^(do shell script)$/i.test(name) && next?.t === 'str')
        actions.push({ kind: 'shell', text: next.v, decoded: false })
      if (/^empty trash$/i.test(name)) actions.push({ kind: 'empty-trash' })
      if (/^(shut down|restart|log out)$/i.test(name)) actions.push({ kind: 'power' })
      if (/^delete$/i.test(name)) actions.push({ kind: 'writes' })
      continue
    }
    // Calls with parentheses, and perl/ruby calls without (`system "…"`, `exec "rm", "-rf"`).
    const paren = next?.t === 'punct' && next.v === '('
    const bare =
      !paren &&
      /^(perl|ruby)$/.test(lang) &&
      (next?.t === 'str' || (next?.t === 'name' && /^(glob|Dir\.glob|Dir\.home)$/.test(next.v)))
    if (!paren && !bare) {
      if (/^(Dir\.home|Path\.home)$/.test(name)) continue
      continue
    }
    const args = paren ? readArgs(tokens, i + 2) : readBareArgs(tokens, i + 1)
    const values = args.map((a) => evaluate(a, lang))
    const last = name.split('.').slice(-2).join('.')
    const short = name.split('.').pop() ?? name
    if (SHELL_CALLS[lang].test(name) || (lang === 'node' && SHELL_CALLS.node.test(short))) {
      const command = commandFrom(values, name)
      if (command) actions.push({ kind: 'shell', ...command })
      continue
    }
    const recursiveByName =
      own(DELETE_CALLS, name) ??
      own(DELETE_CALLS, last) ??
      (lang === 'node' || lang === 'perl' || lang === 'php' || lang === 'lua'
        ? own(DELETE_CALLS, short)
        : undefined)
    const psDelete =
      lang === 'powershell' && /Directory\]::Delete$|File\]::Delete$|DeleteDirectory$/.test(name)
    if (
      recursiveByName !== undefined ||
      psDelete ||
      (lang === 'r' && /^(unlink|file\.remove)$/.test(name))
    ) {
      const flags = args
        .slice(1)
        .map((a) => a.map((t) => t.v).join(' '))
        .join(' ')
      const recursive =
        (recursiveByName ?? false) ||
        /recursive\s*[:=]\s*(true|TRUE|T)\b/.test(flags) ||
        (psDelete && /\$true/i.test(flags))
      const paths = values[0] && 'list' in values[0] ? values[0].list : [textOf(values[0])]
      // perl's unlink takes a list of paths.
      if (lang === 'perl' && values.length > 1)
        for (const v of values.slice(1)) paths.push(textOf(v))
      for (const path of paths) actions.push({ kind: 'delete', path, recursive, narrowed: false })
      continue
    }
    if (
      /^(os\.walk|glob\.glob|glob\.iglob|os\.listdir|os\.scandir|readdirSync|readdir|Dir\.glob|Dir\.children|Dir\.entries|Find\.find|find|glob|rglob|iterdir|walk)$/.test(
        short,
      ) ||
      /^(os\.walk|os\.listdir|os\.scandir|glob\.glob)$/.test(name)
    ) {
      const root = textOf(values[0])
      if (root !== DYN) traversals.push(root)
      continue
    }
    if (
      /^(exec|eval|compile|Function|execfile|runpy\.run_path|instance_eval|class_eval|assert)$/.test(
        short,
      ) ||
      (lang === 'powershell' && /scriptblock\]::Create$|^(Invoke-Expression|iex)$/i.test(name))
    ) {
      const v = values[0]
      if (v && 'text' in v && !v.text.includes(DYN)) {
        if (depth < 4) {
          actions.push({ kind: 'code', text: v.text, decoded: v.decoded })
          for (const a of scanCode(v.text, lang, depth + 1, argv)) actions.push(a)
        }
      } else if (
        /b64decode|base64|decode\(|fromCharCode|\\x[0-9a-f]{2}|unhexlify|fromhex|atob|Buffer\.from|rot13|unpack/i.test(
          code,
        )
      ) {
        actions.push({ kind: 'obfuscated' })
      } else if (
        /urlopen|requests\.(get|post)|urllib|fetch\(|https?\.get|LWP|Net::HTTP|open-uri|URI\.open|curl/.test(
          code,
        )
      ) {
        actions.push({ kind: 'remote-code' })
      }
      continue
    }
    if (/^(array_map|array_walk)$/.test(name) && /^(unlink|rmdir)$/.test(textOf(values[0]))) {
      actions.push({ kind: 'delete', path: textOf(values[1]), recursive: false, narrowed: false })
      continue
    }
    if (
      /(^|\.)(writeFile|writeFileSync|appendFile|appendFileSync|write_text|write_bytes|file_put_contents|File\.write|copyFile|copyFileSync|truncate|truncateSync)$/.test(
        name,
      )
    ) {
      actions.push({ kind: 'write', path: textOf(values[0]) })
      continue
    }
    if (
      /^(open|writeFile|writeFileSync|write_text|write_bytes|File\.write|appendFile|appendFileSync|os\.rename|shutil\.(move|copy|copytree)|os\.chmod|os\.kill|rename|renameSync|chmod|chmodSync|file_put_contents|fopen)$/.test(
        name,
      )
    ) {
      if (name !== 'open' && name !== 'fopen') actions.push({ kind: 'writes' })
      else if (
        args.some((a) => a.some((t) => t.t === 'str' && /^[wa]b?\+?$|^[wa]\+?b?$/.test(t.v))) ||
        (lang === 'perl' && /^[>+]/.test(textOf(values[1] ?? values[0])))
      )
        actions.push({ kind: 'writes' })
    }
  }
  // A deletion of whatever a walk over a literal root finds deletes under that root.
  if (traversals.length) {
    const narrowed = /endswith|fnmatch|\.match\(|\bif\b|filter|\.ext|suffix/.test(code)
    for (const a of actions) {
      if (a.kind === 'delete' && a.path.includes(DYN)) {
        a.path = traversals[0]!
        a.recursive = true
        a.narrowed = narrowed
      }
    }
  }
  return actions
}

/**
 * What code that only prints literals prints (`print("rm -rf /")`, `puts`, `console.log`,
 * awk's `print`), or null when it does anything else or prints something unknown.
 */
export function printedText(code: string, lang: Language): string | null {
  const tokens = tokenize(code, lang)
  let out = ''
  let printed = false
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    if (t.t === 'shell') return null
    if (t.t !== 'name') continue
    if (/^(import|require|use|strict|warnings|BEGIN|END|sys|os)$/.test(t.v)) continue
    if (
      !/^(print|puts|say|echo|printf|console\.log|process\.stdout\.write|sys\.stdout\.write)$/.test(
        t.v,
      )
    )
      return null
    const paren = tokens[i + 1]?.t === 'punct' && tokens[i + 1]!.v === '('
    const args = paren ? readArgs(tokens, i + 2) : readBareArgs(tokens, i + 1)
    const v = args.length ? evaluate(args[0]!, lang) : null
    if (!v || !('text' in v) || v.text.includes(DYN)) return null
    const newline =
      /^(print|puts|say|console\.log)$/.test(t.v) && !(lang === 'perl' && t.v === 'print')
    out += v.text + (newline && !(lang === 'python' && /end\s*=/.test(code)) ? '\n' : '')
    printed = true
    i = paren ? matchParen(tokens, i + 1) : i + 1 + (args[0]?.length ?? 0)
  }
  return printed ? out : null
}

/** Evaluates one expression (a string, a decoding call…) to its text, if the code decides it. */
export function evalString(
  code: string,
  lang: Language,
): { text: string; decoded: boolean } | null {
  const v = evaluate(tokenize(code, lang), lang)
  return v && 'text' in v ? v : null
}

/** The shell command a call runs: a string as a script, or argv as words. */
function commandFrom(values: Value[], name: string): { text: string; decoded: boolean } | null {
  const first = values[0]
  if (!first) return null
  const decoded = values.some((v) => v?.decoded)
  // os.execvp("rm", ["rm", "-rf", "/"]): the list holds argv, program first.
  if (/exec[vl]|spawn[vl]/.test(name) && values[1] && 'list' in values[1])
    return { text: values[1].list.map(shellQuote).join(' '), decoded }
  if ('list' in first) return { text: first.list.map(shellQuote).join(' '), decoded }
  // spawn("rm", ["-rf", "/"]) / system("rm", "-rf", "/")
  const second = values[1]
  if (second && 'list' in second)
    return { text: [first.text, ...second.list].map(shellQuote).join(' '), decoded }
  const strings = values.filter((v): v is { text: string; decoded: boolean } => !!v && 'text' in v)
  if (strings.length > 1 && /^(system|exec|spawn|system2)$/.test(name.split('.').pop() ?? ''))
    return { text: strings.map((s) => shellQuote(s.text)).join(' '), decoded }
  return { text: first.text, decoded }
}

function shellQuote(s: string): string {
  if (s.includes(DYN)) return s
  return /^[\w@%+=:,./~-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
}

function textOf(v: Value | undefined): string {
  if (!v) return DYN
  return 'text' in v ? v.text : (v.list[0] ?? DYN)
}

/**
 * Comma-separated argument token lists: after an opening parenthesis (up to its closer), or for
 * perl/ruby calls without parentheses (`system "a", "b";`) up to `;` or a closing bracket.
 */
function readArgs(tokens: Token[], start: number, bare = false): Token[][] {
  const args: Token[][] = []
  let cur: Token[] = []
  let depth = 0
  for (let i = start; i < tokens.length; i++) {
    const t = tokens[i]!
    if (t.t === 'punct' && bare && depth === 0 && t.v === ';') break
    if (t.t === 'punct' && /^[([{]$/.test(t.v)) depth++
    if (t.t === 'punct' && /^[)\]}]$/.test(t.v)) {
      if (depth === 0) break
      depth--
    }
    if (depth === 0 && t.t === 'punct' && t.v === ',') {
      args.push(cur)
      cur = []
      continue
    }
    cur.push(t)
  }
  if (cur.length) args.push(cur)
  return args
}

function readBareArgs(tokens: Token[], start: number): Token[][] {
  return readArgs(tokens, start, true)
}

/** Evaluates an argument: string literals and `+`/`.` concatenation, lists, known paths, decoders. */
function evaluate(tokens: Token[], lang: Language): Value {
  if (!tokens.length) return null
  const first = tokens[0]!
  if (first.t === 'punct' && first.v === '[' && lang !== 'powershell') {
    const inner = readArgs(tokens, 1)
    const list = inner.map((a) => textOf(evaluate(a, lang)))
    return { list, decoded: false }
  }
  let text = ''
  let decoded = false
  let any = false
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    if (t.t === 'str') {
      text += t.v
      decoded ||= t.decoded ?? false
      any = true
      continue
    }
    if (t.t === 'punct' && t.v === '%' && any && /%[sdr]/.test(text)) {
      // 'x %s' % value (python, ruby): substitute the value.
      const rest = evaluate(tokens.slice(i + 1), lang)
      const values = rest && 'list' in rest ? rest.list : [textOf(rest)]
      let k = 0
      text = text.replace(/%[sdr]/g, () => values[k++] ?? DYN)
      decoded ||= rest?.decoded ?? false
      break
    }
    if (t.t !== 'name') continue
    const name = t.v
    // process.argv[1], sys.argv[1], $ARGV[0], ARGV[0]: the arguments after the code.
    const argvBase = /^(process\.argv|sys\.argv)$/.test(name) ? 1 : /^\$?ARGV$/.test(name) ? 0 : -1
    if (argvBase >= 0 && tokens[i + 1]?.v === '[' && /^\d+$/.test(tokens[i + 2]?.v ?? '')) {
      text += currentArgv[Number(tokens[i + 2]!.v) - argvBase] ?? DYN
      any = true
      i += 3
      continue
    }
    const method = tokens[i - 1]?.t === 'punct' && tokens[i - 1]!.v === '.' && any
    const next = tokens[i + 1]
    if (next?.t === 'punct' && next.v === '(') {
      const end = matchParen(tokens, i + 1)
      const inner = readArgs(tokens, i + 2).map((a) => evaluate(a, lang))
      i = end
      const result = callValue(name, inner)
      any = true
      if (result.decoded) decoded = true
      if (method && result.text === null) continue // `.decode()`, `.toString()`: same value
      text = method ? (result.text ?? text) : text + (result.text ?? DYN)
      continue
    }
    if (
      /^(Dir\.home|process\.env\.HOME|\$ENV\{HOME\}|ENV\[['"]HOME['"]\]|os\.environ\[['"]HOME['"]\]|\$HOME|\$env:USERPROFILE|\$_SERVER\[['"]HOME['"]\])$/.test(
        name,
      )
    ) {
      text += '~'
      any = true
      continue
    }
    if (
      /^(true|false|True|False|None|null|undefined|\$true|\$false|encoding|shell|check|text)$/.test(
        name,
      )
    )
      continue
    text += DYN
    any = true
  }
  return any ? { text, decoded } : null
}

/** What a call in an argument evaluates to; text null means "the receiver's value". */
function callValue(name: string, args: Value[]): { text: string | null; decoded: boolean } {
  const arg = textOf(args[0])
  const decodedText = decodeCall(name, arg, args)
  if (decodedText !== undefined) return { text: decodedText ?? DYN, decoded: true }
  const short = name.split('.').pop() ?? name
  if (
    /^(decode|encode|toString|strip|rstrip|lstrip|trim|as_posix|absolute|resolve|expanduser|__str__|to_s|chomp|read)$/.test(
      short,
    ) &&
    !args.length
  )
    return { text: null, decoded: false }
  if (/^(require|__import__|import_module|require_relative|use)$/.test(short))
    return { text: '', decoded: false }
  if (
    /expanduser|expand_path|path\.expand|normalizePath|realpath|abspath|^Path$|^pathlib\.Path$|resolve$/.test(
      name,
    )
  )
    return { text: arg, decoded: false }
  if (/(^|\.)join$/.test(name) && args.length > 1)
    return { text: args.map(textOf).join('/'), decoded: false }
  if (/(^|\.)(getenv|environ\.get|Sys\.getenv|get)$/.test(name))
    return { text: arg === 'HOME' || arg === 'USERPROFILE' ? '~' : DYN, decoded: false }
  if (/(^|\.)(homedir|home)$/.test(name)) return { text: '~', decoded: false }
  if (/(^|\.)(glob|Dir\.glob)$/.test(name)) return { text: arg, decoded: false }
  return { text: DYN, decoded: false }
}

function matchParen(tokens: Token[], open: number): number {
  let depth = 0
  for (let i = open; i < tokens.length; i++) {
    const t = tokens[i]!
    if (t.t === 'punct' && t.v === '(') depth++
    else if (t.t === 'punct' && t.v === ')' && --depth === 0) return i
  }
  return tokens.length - 1
}

/** Decoding calls: undefined when `name` is not one, null when its input is unknown. */
function decodeCall(name: string, arg: string, args: Value[]): string | null | undefined {
  const known = !arg.includes(DYN)
  if (
    /(b64decode|decodebytes|decode_base64|atob|FromBase64String|base64_decode|decode64|unpack1?)$/.test(
      name,
    )
  )
    return known ? decodeBase64(arg) : null
  if (/(unhexlify|fromhex|a2b_hex|hex2bin)$/.test(name))
    return known ? decodeHexDump(arg, true) : null
  if (/codecs\.decode$/.test(name) && /rot.?13/i.test(textOf(args[1])))
    return known ? translate(arg, 'A-Za-z', 'N-ZA-Mn-za-m') : null
  if (/^Buffer\.from$/.test(name) && /base64/.test(textOf(args[1])))
    return known ? decodeBase64(arg) : null
  if (/^Buffer\.from$/.test(name) && /hex/.test(textOf(args[1])))
    return known ? decodeHexDump(arg, true) : null
  if (/GetString$/.test(name)) return arg.includes(DYN) ? null : arg.replaceAll(DYN, '')
  if (/(^|\.)(decode|toString)$/.test(name) && !args.length) return undefined
  return undefined
}

/** Splits code into names (with dots and `::`), strings (escapes decoded), shell strings, punctuation. */
function tokenize(code: string, lang: Language): Token[] {
  const out: Token[] = []
  const n = code.length
  let i = 0
  while (i < n && out.length < 20_000) {
    const c = code[i]!
    if (/\s/.test(c)) {
      i++
      continue
    }
    if (
      (c === '#' && lang !== 'php' && lang !== 'powershell') ||
      (c === '/' && code[i + 1] === '/' && lang !== 'perl')
    ) {
      if (lang === 'awk' && c === '/') {
        out.push({ t: 'punct', v: c })
        i++
        continue
      }
      const nl = code.indexOf('\n', i)
      i = nl < 0 ? n : nl
      continue
    }
    // Perl/Ruby/PHP/JS backticks and %x()/qx{} run a shell.
    if (c === '`' && lang !== 'node' && lang !== 'osascript' && lang !== 'r') {
      const close = code.indexOf('`', i + 1)
      out.push({ t: 'shell', v: code.slice(i + 1, close < 0 ? n : close) })
      i = close < 0 ? n : close + 1
      continue
    }
    // perl q{…} / qq{…}: strings with chosen delimiters.
    const qq = lang === 'perl' ? /^(qq|q)([({[<|!/])/.exec(code.slice(i, i + 3)) : null
    if (qq && !/[\w$]/.test(code[i - 1] ?? '')) {
      const open = qq[2]!
      const closeCh =
        ({ '(': ')', '{': '}', '[': ']', '<': '>' } as Record<string, string>)[open] ?? open
      const close = code.indexOf(closeCh, i + qq[0].length)
      const body = code.slice(i + qq[0].length, close < 0 ? n : close)
      out.push({ t: 'str', v: qq[1] === 'qq' ? decodeEscapes(body, 'ansi') : body })
      i = close < 0 ? n : close + 1
      continue
    }
    const pct = /^(%x|qx)([({[<|!/])/.exec(code.slice(i, i + 3))
    if (pct && (lang === 'ruby' || lang === 'perl')) {
      const open = pct[2]!
      const closeCh =
        ({ '(': ')', '{': '}', '[': ']', '<': '>' } as Record<string, string>)[open] ?? open
      const close = code.indexOf(closeCh, i + pct[0].length)
      out.push({ t: 'shell', v: code.slice(i + pct[0].length, close < 0 ? n : close) })
      i = close < 0 ? n : close + 1
      continue
    }
    const q = /^([rRbBfFuU]{0,2})('''|"""|'|")/.exec(code.slice(i, i + 5))
    if (q && (q[1] === '' || lang === 'python')) {
      const quote = q[2]!
      const raw = /r/i.test(q[1]!)
      let j = i + q[0].length
      let s = ''
      while (j < n && !code.startsWith(quote, j)) {
        if (code[j] === '\\' && !raw && j + 1 < n && lang !== 'powershell') {
          s += code[j]! + code[j + 1]!
          j += 2
        } else if (lang === 'powershell' && quote === "'" && code.startsWith("''", j)) {
          s += "'"
          j += 2
        } else s += code[j++]
      }
      const single = quote === "'" && (lang === 'perl' || lang === 'ruby' || lang === 'php')
      const text = raw || single || lang === 'powershell' ? s : decodeEscapes(s, 'ansi')
      const decoded = !raw && !single && /\\(x[0-9a-fA-F]|[0-7]{2,3}|u[0-9a-fA-F])/.test(s)
      out.push({ t: 'str', v: text, decoded })
      i = j + quote.length
      continue
    }
    const name =
      /^(do shell script|empty trash|shut down|restart|log out|\$\d+|\$ENV\{\w+\}|ENV\[['"]\w+['"]\]|os\.environ\[['"]\w+['"]\]|\$_SERVER\[['"]\w+['"]\]|\[[\w.]+\]::\w+|\$?[A-Za-z_][\w]*(?:(?:\.|::|->)[A-Za-z_][\w]*)*(?:[?!])?|do shell script|empty trash)/.exec(
        code.slice(i, i + 200),
      )
    if (name) {
      const v = name[0]
      out.push({ t: 'name', v: v.replace(/^\./, '').replace(/->/g, '.') })
      i += name[0].length
      continue
    }
    out.push({ t: 'punct', v: c })
    i++
  }
  return out
}
