import type { CommandPart } from '../../contract/safety'
import { baseName, extractBash } from './bash-frontend'
import { extractFish } from './fish-frontend'
import { parseOptions, type OptionSpec, type ParsedOptions } from './options'
import { classifyPath, looksLikeProduction, type PathInfo } from './paths'
import { extractPowershell } from './powershell-frontend'
import { redirectFindings } from './rules/redirects'
import { ruleFor } from './rules/registry'
import {
  DYN,
  maxRisk,
  raiseRisk,
  RISK_ORDER,
  type Arg,
  type ExecContext,
  type Finding,
  type Risk,
  type ShellDialect,
  type SimpleCommand,
  type Span,
} from './types'

const MAX_DEPTH = 8
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
])

export interface EmitOptions {
  /** Raise by one level when the command names a production target. */
  prod?: boolean
}

/** What a rule sees: one command as it runs, after wrappers were peeled off. */
export interface CommandView {
  name: string
  nameArg: Arg
  args: Arg[]
  cmd: SimpleCommand
  ctx: ExecContext
  engine: Engine
  emit(
    ruleId: string,
    risk: Risk,
    message: string,
    at?: Arg | Span | null,
    options?: EmitOptions,
  ): void
  opts(spec?: OptionSpec): ParsedOptions
  path(arg: Arg): PathInfo
}

/** A rule rates one program; wrappers (sudo, env, bash -c) run what they wrap instead. */
export type Rule = ((c: CommandView) => void) & { isWrapper?: boolean }

export function wrapper(fn: (c: CommandView) => void): Rule {
  return Object.assign(fn, { isWrapper: true })
}

/** Runs the analysis of one command text; collects findings, programs and the breakdown. */
export class Engine {
  readonly findings: Finding[] = []
  readonly programs = new Set<string>()
  readonly tags = new Set<string>()
  readonly parts: CommandPart[] = []
  parseError: string | null = null

  constructor(readonly text: string) {}

  /** Analyses a script in a dialect; `ctx.mapSpan` maps its spans into the original text. */
  runScript(
    text: string,
    dialect: ShellDialect,
    ctx: ExecContext,
    vars?: Map<string, string>,
  ): void {
    if (ctx.depth > MAX_DEPTH) {
      this.add(ctx, 'parse.too-deep', 'high', 'Commands nested too deeply to analyse', null)
      return
    }
    const extracted =
      dialect === 'powershell'
        ? extractPowershell(text)
        : dialect === 'fish'
          ? extractFish(text)
          : extractBash(text, vars)
    if (extracted.parseError) {
      const where = ctx.depth > 0 ? ' (in a nested script)' : ''
      this.parseError ??= extracted.parseError + where
      this.add(
        ctx,
        'parse.error',
        'high',
        `Could not parse the command${where}: ${extracted.parseError}; rated as unsafe to be sure`,
        null,
      )
    }
    for (const f of extracted.findings) this.add(ctx, f.ruleId, f.risk, f.message, f.span)
    for (const cmd of extracted.commands) this.runCommand(cmd, { ...ctx, dialect })
  }

  /** Runs a script found inside an argument (`bash -c '...'`, `ssh host '...'`, `eval`). */
  runInnerScript(
    text: string,
    dialect: ShellDialect,
    from: Arg[],
    ctx: ExecContext,
    via: string,
    extra: Partial<ExecContext> = {},
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
    this.runScript(text, dialect, {
      ...ctx,
      ...extra,
      via: [...ctx.via, via],
      depth: ctx.depth + 1,
      mapSpan,
    })
  }

  /** Runs a command given as words (what a wrapper runs). */
  runWords(
    words: Arg[],
    base: SimpleCommand,
    ctx: ExecContext,
    via: string,
    extra: Partial<ExecContext> = {},
  ): void {
    if (ctx.depth > MAX_DEPTH) {
      this.add(ctx, 'parse.too-deep', 'high', 'Commands nested too deeply to analyse', null)
      return
    }
    this.runCommand(
      // Input redirections (here-docs, `<<<`) feed what the wrapper runs; outputs were rated already.
      { ...base, words, redirects: base.redirects.filter((r) => r.op.startsWith('<')) },
      { ...ctx, ...extra, via: [...ctx.via, via], depth: ctx.depth + 1 },
    )
  }

  runCommand(cmd: SimpleCommand, ctx: ExecContext): void {
    for (const f of redirectFindings(cmd, ctx)) this.add(ctx, f.ruleId, f.risk, f.message, f.span)
    const nameArg = cmd.words[0]
    if (!nameArg) return
    if (nameArg.value.includes(DYN)) {
      this.dynamicName(cmd, nameArg, ctx)
      return
    }
    const rawName = baseName(nameArg.value)
    const name = ctx.dialect === 'powershell' ? rawName.toLowerCase() : rawName
    const rule = ruleFor(name, ctx.dialect === 'powershell')
    const view = this.view(name, nameArg, cmd, ctx)
    if (rule) rule(view)
    if (!rule?.isWrapper) this.record(view)
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
      path: (arg) => classifyPath(arg.value, ctx.container?.hostMounts ?? []),
    }
  }

  /** Adds a finding, adjusted for where the command runs. */
  add(ctx: ExecContext, ruleId: string, risk: Risk, message: string, span: Span | null): void {
    let r = risk
    let msg = message
    if (ctx.container && ctx.container.hostMounts.length === 0 && !ctx.container.privileged) {
      if (r === 'critical' && !ruleId.startsWith('exec.') && !ruleId.startsWith('parse.')) {
        r = 'high'
        msg += ' (inside a container)'
      }
    }
    if (ctx.remote) {
      msg += ` (on ${ctx.remote})`
      if (looksLikeProduction(ctx.remote) && RISK_ORDER[r] >= 1 && RISK_ORDER[r] < 3) {
        r = raiseRisk(r)
        this.tags.add('production')
      }
    }
    this.findings.push({ ruleId, risk: r, message: msg, span: span ? ctx.mapSpan(span) : null })
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

export function rootContext(dialect: ShellDialect): ExecContext {
  return {
    dialect,
    via: [],
    privileged: false,
    remote: null,
    container: null,
    depth: 0,
    mapSpan: (s) => s,
  }
}

export function highestRisk(findings: Finding[]): Risk {
  let risk: Risk = 'safe'
  for (const f of findings) risk = maxRisk(risk, f.risk)
  return risk
}
