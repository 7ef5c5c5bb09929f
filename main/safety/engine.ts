import type { CommandPart } from '../../contract/safety'
import { baseName, extractBash } from './bash-frontend'
import { resolveIn } from './cwd'
import { extractFish } from './fish-frontend'
import { globNameCandidates } from './glob-name'
import { LIMITS, limitFinding } from './limits'
import { parseOptions } from './options'
import type { CommandView } from './rule'
export { wrapper, type CommandView, type EmitOptions, type Rule } from './rule'
import { classifyPath, looksLikeProduction, normalise } from './paths'
import { extractPowershell } from './powershell-frontend'
import { secretCopies } from './rules/exposure'
import { persistedCode, redirectFindings } from './rules/redirects'
import { commandOutput } from './static-output'
import { ruleFor } from './rules/registry'
import { bashBracePrepass, zshToBash } from './zsh-prepass'
import {
  DYN,
  maxRisk,
  raiseRisk,
  RISK_ORDER,
  type Arg,
  type ExecContext,
  type Finding,
  type Platform,
  type Risk,
  type ShellDialect,
  type SimpleCommand,
  type Span,
} from './types'

/** Tools whose first operand is a subcommand, for the breakdown and policy rules. */
const SUBCOMMAND_TOOLS = new Set([
  'git',
  'docker',
  'podman',
  'kubectl',
  'helm',
  'terraform',
  'tofu',
  'aws',
  'gcloud',
  'az',
  'gsutil',
  'npm',
  'pnpm',
  'yarn',
  'apt',
  'apt-get',
  'dnf',
  'yum',
  'brew',
  'systemctl',
  'pip',
  'pip3',
  'cargo',
  'go',
  'redis-cli',
  'crontab',
  'ufw',
  'nmcli',
  'snap',
  'flatpak',
  'zypper',
  'pacman',
  'launchctl',
  'diskutil',
  'ansible',
  'salt',
])
/** Directories whose programs are the system's own, known by name (`/usr/bin/ls` is `ls`). */
const SYSTEM_BIN =
  /^(\/usr)?(\/local)?\/s?bin\/[^/]+$|^\/opt\/homebrew\/s?bin\/[^/]+$|^\/usr\/libexec\/[^/]+$|^\/(system32|windows\/system32)\//i

/** Runs the analysis of one command text; collects findings, programs and the breakdown. */
export class Engine {
  findings: Finding[] = []
  programs = new Set<string>()
  tags = new Set<string>()
  parts: CommandPart[] = []
  parseError: string | null = null
  /** Files this line downloads (`curl -o x`), so running them is rated as running remote code. */
  readonly downloads = new Set<string>()
  /** Files this line filled with keys or credentials, so uploading them is exfiltration. */
  private readonly secretFiles = new Set<string>()
  /** What commands in this line wrote into files, so running them is rated by their content. */
  private readonly written = new Map<string, string>()

  constructor(readonly text: string) {}

  /** Analyses a script in a dialect; `ctx.mapSpan` maps its spans into the original text. */
  runScript(
    text: string,
    dialect: ShellDialect,
    ctx: ExecContext,
    vars?: Map<string, string>,
  ): void {
    if (ctx.depth > LIMITS.maxScriptDepth) {
      this.findings.push(limitFinding('scripts'))
      return
    }
    if (text.length > LIMITS.maxInput) {
      this.findings.push(limitFinding('input'))
      return
    }
    // Parts only known at run time (from an outer word) stay unknown: an unset variable says so.
    let script =
      dialect === 'powershell' || dialect === 'fish' ? text : text.replaceAll(DYN, '${_}')
    let scriptCtx = ctx
    if (dialect === 'zsh' || dialect === 'bash' || dialect === 'sh') {
      const pre = dialect === 'zsh' ? zshToBash(script) : bashBracePrepass(script)
      script = pre.text
      const parent = ctx.mapSpan
      scriptCtx = { ...ctx, mapSpan: (s) => parent(pre.mapSpan(s)) }
    }
    const extracted =
      dialect === 'powershell'
        ? extractPowershell(script, { cwd: ctx.cwd, platform: ctx.platform })
        : dialect === 'fish'
          ? extractFish(script, { cwd: ctx.cwd })
          : extractBash(script, {
              vars,
              cwd: ctx.cwd,
              dialect: dialect === 'zsh' ? 'zsh' : dialect === 'sh' ? 'sh' : 'bash',
            })
    if (extracted.parseError) {
      const where = ctx.depth > 0 ? ' (in a nested script)' : ''
      this.parseError ??= extracted.parseError + where
      this.add(
        scriptCtx,
        'parse.error',
        'high',
        `Could not parse the command${where}: ${extracted.parseError}; rated as unsafe to be sure`,
        null,
      )
    }
    for (const f of extracted.findings) this.add(scriptCtx, f.ruleId, f.risk, f.message, f.span)
    for (const cmd of extracted.commands) this.runCommand(cmd, { ...scriptCtx, dialect })
  }

  /** Runs a script found inside an argument (`bash -c '...'`, `ssh host '...'`, `eval`). */
  runInnerScript(
    text: string,
    dialect: ShellDialect,
    from: Arg[],
    ctx: ExecContext,
    via: string,
    extra: Partial<ExecContext> = {},
    vars?: Map<string, string>,
  ): void {
    const only = from.length === 1 ? from[0] : undefined
    let offset: number | null = null
    if (only) {
      const raw = only.raw
      if (raw === text) offset = only.span.start
      else if (/^['"]/.test(raw) && raw.slice(1, -1) === text) offset = only.span.start + 1
      else if (raw.startsWith("$'") && raw.slice(2, -1) === text) offset = only.span.start + 2
    }
    const first = from[0]
    const last = from[from.length - 1]
    const whole: Span =
      first && last
        ? { start: first.span.start, end: last.span.end }
        : ctx.mapSpan({ start: 0, end: 0 })
    const parentMap = ctx.mapSpan
    const mapSpan =
      offset !== null
        ? (s: Span) => parentMap({ start: s.start + offset, end: s.end + offset })
        : () => parentMap(whole)
    this.runScript(
      text,
      dialect,
      { ...ctx, ...extra, via: [...ctx.via, via], depth: ctx.depth + 1, mapSpan },
      vars,
    )
  }

  /** Runs a command given as words (what a wrapper runs). */
  runWords(
    words: Arg[],
    base: SimpleCommand,
    ctx: ExecContext,
    via: string,
    extra: Partial<ExecContext> = {},
  ): void {
    if (ctx.depth > LIMITS.maxScriptDepth) {
      this.findings.push(limitFinding('scripts'))
      return
    }
    this.runCommand(
      // Input redirections (here-docs, `<<<`) feed what the wrapper runs; outputs were rated already.
      { ...base, words, redirects: base.redirects.filter((r) => r.op.startsWith('<')) },
      { ...ctx, ...extra, via: [...ctx.via, via], depth: ctx.depth + 1 },
    )
  }

  runCommand(cmd: SimpleCommand, outer: ExecContext): void {
    const failed = cmd.cwdIfCdFailed
    if (failed !== undefined) {
      // `cd ~; cd build; rm -rf *`: rated where it runs if that cd worked, and where if it failed.
      const rest = { ...cmd, cwdIfCdFailed: undefined }
      const before = this.findings.length
      const worst = this.worseOf([
        () => this.runCommand(rest, outer),
        () => this.runCommand({ ...rest, cwd: failed }, outer),
      ])
      if (worst === 1)
        for (const f of this.findings.slice(before))
          f.message += ` (if the cd before it fails, it runs in ${failed ?? 'the starting directory'})`
      return
    }
    const ctx = cmd.cwd === undefined ? outer : { ...outer, cwd: cmd.cwd }
    for (const f of redirectFindings(cmd, ctx)) this.add(ctx, f.ruleId, f.risk, f.message, f.span)
    const nameArg = cmd.words[0]
    if (!nameArg) return
    if (nameArg.value.includes(DYN)) {
      this.dynamicName(cmd, nameArg, ctx)
      return
    }
    if (nameArg.decoded)
      this.add(
        ctx,
        'exec.decoded',
        'moderate',
        `Runs ${nameArg.value}, a program name decoded from escapes or an encoding`,
        nameArg.span,
      )
    const globbed = globNameCandidates(nameArg, ctx.dialect)
    if (globbed) return this.globName(cmd, nameArg, ctx, globbed)
    const native = cmd.nativeName
    if (ctx.dialect === 'powershell' && native) {
      // `rm` in PowerShell is Remove-Item on Windows and /bin/rm elsewhere: rate by the platform,
      // and by the worse of the two readings when the platform is unknown.
      const nativeCmd = { ...cmd, words: [native, ...cmd.words.slice(1)], nativeName: undefined }
      if (ctx.platform === 'linux' || ctx.platform === 'macos')
        return this.runNamed(nativeCmd, native, ctx)
      if (ctx.platform === 'windows') return this.runNamed(cmd, nameArg, ctx)
      this.worseOf([
        () => this.runNamed(cmd, nameArg, ctx),
        () => this.runNamed(nativeCmd, native, { ...ctx, dialect: 'bash' }),
      ])
      return
    }
    this.runNamed(cmd, nameArg, ctx)
  }

  /** `/???/r? -rf ~`: the pattern is expanded before it runs, so rate the worst program it names. */
  private globName(
    cmd: SimpleCommand,
    nameArg: Arg,
    ctx: ExecContext,
    globbed: { dir: string; names: string[]; tooMany: boolean },
  ): void {
    const shown = nameArg.value
    if (globbed.tooMany) {
      this.add(
        ctx,
        'exec.glob-name',
        'high',
        `Runs ${shown}, a pattern that matches many programs (any of them could run)`,
        nameArg.span,
      )
      this.record(this.view(shown, nameArg, cmd, ctx))
      return
    }
    const listed = globbed.names.slice(0, 4).join(', ') + (globbed.names.length > 4 ? ', …' : '')
    this.add(
      ctx,
      'exec.glob-name',
      'moderate',
      `Runs ${shown}, a pattern for a program name (it matches ${listed})`,
      nameArg.span,
    )
    this.worseOf(
      globbed.names.map((name) => () => {
        const value = globbed.dir ? `${globbed.dir}/${name}` : name
        const named = { ...nameArg, value }
        this.runNamed({ ...cmd, words: [named, ...cmd.words.slice(1)] }, named, ctx)
      }),
    )
  }

  private runNamed(cmd: SimpleCommand, nameArg: Arg, ctx: ExecContext): void {
    const rawName = baseName(nameArg.value)
    const name = ctx.dialect === 'powershell' ? rawName.toLowerCase() : rawName
    const rule = ruleFor(name, ctx.dialect === 'powershell')
    const view = this.view(name, nameArg, cmd, ctx)
    if (rule) rule(view)
    else this.localProgram(view)
    if (cmd.redirects.length || name === 'tee') {
      persistedCode(view)
      this.noteWrites(view)
    }
    for (const path of secretCopies(view)) this.secretFiles.add(this.key(view, path))
    if (!rule?.isWrapper) this.record(view)
  }

  /** A program run by path that the engine has no rule for runs code it cannot see. */
  private localProgram(c: CommandView): void {
    const path = c.nameArg.value
    if (!/[/\\]/.test(path) || SYSTEM_BIN.test(normalise(path.replace(/\\/g, '/')))) return
    const shown = path.replaceAll(DYN, '$VAR')
    const written = this.writtenText(c, path)
    if (written !== undefined) {
      c.engine.runInnerScript(
        written,
        c.ctx.dialect === 'powershell' ? 'powershell' : 'bash',
        [c.nameArg],
        c.ctx,
        `${shown} (written in this line)`,
      )
      return
    }
    if (this.wasDownloaded(c, path)) {
      c.emit(
        'exec.downloaded',
        'high',
        `Runs ${shown}, downloaded from the network earlier in this line (unreviewed remote code)`,
        c.nameArg,
      )
      return
    }
    c.emit(
      'exec.local-program',
      'moderate',
      `Runs ${shown}, a local program or script whose code the engine cannot see`,
      c.nameArg,
    )
  }

  private key(c: CommandView, path: string): string {
    return normalise(resolveIn(c.cmd.cwd ?? c.ctx.cwd, path.replace(/\\/g, '/')))
  }

  /** Whether an earlier command in the line filled this file with secrets (`zip k.zip ~/.ssh`). */
  holdsSecrets(c: CommandView, path: string): boolean {
    return this.secretFiles.size > 0 && this.secretFiles.has(this.key(c, path))
  }

  /** Whether a file path was downloaded earlier in the line (`curl -o x && ./x`). */
  wasDownloaded(c: CommandView, path: string): boolean {
    return this.downloads.size > 0 && this.downloads.has(this.key(c, path))
  }

  noteDownload(c: CommandView, path: string): void {
    if (!path.includes(DYN)) this.downloads.add(this.key(c, path))
  }

  /** What an earlier command in the line wrote into a file, when the text decides it. */
  writtenText(c: CommandView, path: string): string | undefined {
    return this.written.size ? this.written.get(this.key(c, path)) : undefined
  }

  /** `echo 'rm -rf /' > x.sh`, `base64 -d > x`, `cat > x <<EOF`: remember what x holds. */
  private noteWrites(c: CommandView): void {
    const stdin = c.cmd.stdin
    const input =
      stdin.kind === 'literal' ? { text: stdin.text, decoded: stdin.decoded ?? false } : undefined
    const output =
      c.name === 'tee' ? input : (commandOutput(c.cmd, input, c.ctx.dialect) ?? undefined)
    const targets = c.cmd.redirects
      .filter((r) => (r.op === '>' || r.op === '>|' || r.op === '>>') && r.target)
      .map((r) => r.target!.value)
    if (c.name === 'tee') for (const a of c.opts().operands) targets.push(a.value)
    for (const t of targets) {
      if (t.includes(DYN)) continue
      const key = this.key(c, t)
      if (output) this.written.set(key, (this.written.get(key) ?? '') + output.text)
      else this.written.delete(key)
    }
  }

  /**
   * Runs alternative readings of one command and keeps what the worst of them found; returns
   * which reading that was (the first of equals).
   */
  private worseOf(readings: Array<() => void>): number {
    const saved = {
      findings: this.findings,
      parts: this.parts,
      programs: this.programs,
      tags: this.tags,
    }
    let best: {
      index: number
      risk: number
      findings: Finding[]
      parts: CommandPart[]
      programs: Set<string>
      tags: Set<string>
    } | null = null
    for (const [index, read] of readings.entries()) {
      this.findings = []
      this.parts = []
      this.programs = new Set()
      this.tags = new Set()
      read()
      const risk = this.findings.reduce((r, f) => Math.max(r, RISK_ORDER[f.risk]), -1)
      if (!best || risk > best.risk)
        best = {
          index,
          risk,
          findings: this.findings,
          parts: this.parts,
          programs: this.programs,
          tags: this.tags,
        }
    }
    this.findings = saved.findings
    this.parts = saved.parts
    this.programs = saved.programs
    this.tags = saved.tags
    if (!best) return -1
    this.findings.push(...best.findings)
    this.parts.push(...best.parts)
    for (const p of best.programs) this.programs.add(p)
    for (const t of best.tags) this.tags.add(t)
    return best.index
  }

  private dynamicName(cmd: SimpleCommand, nameArg: Arg, ctx: ExecContext): void {
    const fromOutput = /^["']?(\$\(|`)/.test(nameArg.raw)
    if (fromOutput) {
      this.add(
        ctx,
        'exec.output-as-command',
        'high',
        'Runs the output of another command as a command',
        nameArg.span,
      )
    } else {
      this.add(
        ctx,
        'exec.dynamic-name',
        'moderate',
        'Runs a program whose name is only known at run time',
        nameArg.span,
      )
    }
    this.record(this.view('(dynamic)', nameArg, cmd, ctx))
  }

  private view(name: string, nameArg: Arg, cmd: SimpleCommand, ctx: ExecContext): CommandView {
    const args = cmd.words.slice(1)
    const mounts = ctx.container?.hostMounts ?? []
    const pathOf = (value: string) => classifyPath(resolveIn(ctx.cwd, value), mounts)
    return {
      name,
      nameArg,
      args,
      cmd,
      ctx,
      engine: this,
      emit: (ruleId, risk, message, at, options) => {
        let r = risk
        let msg = message
        if (options?.prod && RISK_ORDER[r] >= 1 && args.some((a) => looksLikeProduction(a.value))) {
          r = raiseRisk(r)
          msg += ' (production target)'
          this.tags.add('production')
        }
        const span = at == null ? cmd.span : 'value' in at ? at.span : at
        this.add(ctx, ruleId, r, msg, span)
      },
      opts: (spec) => parseOptions(args, spec),
      path: (arg) => pathOf(arg.value),
      pathOf,
      fanOut: () => {
        if (ctx.fanOut === 'all' || args.some((a) => a.fanOut === 'all')) return 'all'
        if (ctx.fanOut || args.some((a) => a.fanOut)) return 'selected'
        return undefined
      },
    }
  }

  /** Adds a finding, adjusted for where the command runs. */
  add(ctx: ExecContext, ruleId: string, risk: Risk, message: string, span: Span | null): void {
    let r = risk
    let msg = message
    const c = ctx.container
    if (c && !c.existing && c.hostMounts.length === 0 && !c.privileged) {
      if (r === 'critical' && !ruleId.startsWith('exec.') && !ruleId.startsWith('parse.')) {
        r = 'high'
        msg += ' (inside a new container)'
      }
    }
    if (ctx.remote) {
      msg += ` (on ${ctx.remote})`
      if (looksLikeProduction(ctx.remote) && RISK_ORDER[r] >= 1 && RISK_ORDER[r] < 3) {
        r = raiseRisk(r)
        this.tags.add('production')
      }
    }
    this.findings.push({
      ruleId,
      risk: r,
      // One line per reason, whatever the command's paths or payloads hold.
      message: msg.replace(/\s*[\r\n\u2028\u2029]+\s*/g, ' ').replaceAll(DYN, '$VAR'),
      span: span ? this.clamp(ctx.mapSpan(span)) : null,
    })
  }

  private clamp(s: Span): Span {
    const n = this.text.length
    const start = Math.min(Math.max(0, s.start), n)
    return { start, end: Math.min(Math.max(start, s.end), n) }
  }

  /** Records a program that runs, for the verdict's `programs` and the breakdown. */
  record(c: CommandView): void {
    this.programs.add(c.name)
    if (c.ctx.privileged) this.tags.add('privileged')
    if (c.ctx.remote) this.tags.add('remote')
    if (c.ctx.container) this.tags.add('container')
    const opts = c.opts()
    const sub = SUBCOMMAND_TOOLS.has(c.name) ? (opts.operands[0]?.value ?? null) : null
    const targets = opts.operands.slice(sub ? 1 : 0).map((a) => a.value.replaceAll(DYN, '…'))
    this.parts.push({
      program: c.name,
      subcommand: sub,
      flags: opts.flagWords.map((a) => a.value),
      targets,
      via: c.ctx.via,
      redirects: c.cmd.redirects.map((r) => `${r.fd ?? ''}${r.op} ${r.target?.value ?? ''}`.trim()),
      connector: c.cmd.connector,
      span: c.ctx.mapSpan(c.cmd.span),
    })
  }
}

export function rootContext(dialect: ShellDialect, platform: Platform = 'unknown'): ExecContext {
  return {
    dialect,
    via: [],
    privileged: false,
    remote: null,
    container: null,
    depth: 0,
    mapSpan: (s) => s,
    cwd: null,
    platform,
  }
}

export function highestRisk(findings: Finding[]): Risk {
  let risk: Risk = 'safe'
  for (const f of findings) risk = maxRisk(risk, f.risk)
  return risk
}
