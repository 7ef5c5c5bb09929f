import { classifyPath, isCriticalSystemFile } from '../paths'
import { DYN, type ExecContext, type Finding, type SimpleCommand } from '../types'

const WRITE_OPS = new Set(['>', '>>', '>|', '&>', '&>>', '<>', '>&'])

/** Findings for output redirections: writing to disks, system files, or overwriting files. */
export function redirectFindings(cmd: SimpleCommand, ctx: ExecContext): Finding[] {
  const out: Finding[] = []
  for (const r of cmd.redirects) {
    if (!WRITE_OPS.has(r.op) || !r.target) continue
    const value = r.target.value
    // `2>&1`, `>&2`: duplicating a descriptor writes nothing new.
    if (/^\d+$|^-$/.test(value) && (r.op === '>&' || r.op === '<&')) continue
    const info = classifyPath(value, ctx.container?.hostMounts ?? [])
    const append = r.op.endsWith('>>')
    const span = r.span
    const verb = append ? 'Appends to' : 'Overwrites'
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
