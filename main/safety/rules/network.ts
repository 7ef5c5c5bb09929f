import type { Rule } from '../engine'
import { hasFlag } from '../options'
import { classifyPath } from '../paths'

const SENSITIVE_UPLOAD =
  /(^|\/|@)(\.ssh\/|id_(rsa|ed25519|ecdsa|dsa)|\.aws\/credentials|\.kube\/config|\.netrc|\.npmrc|\.pgpass|\.docker\/config\.json|\.env$|\/etc\/shadow|\/etc\/passwd|\.gnupg\/|\.git-credentials|\.bash_history|\.zsh_history)/

const curl: Rule = (c) => {
  const opts = c.opts({
    shortWithValue: 'oXdFTuHAeEKrwmyYzbcCDPQtUx',
    longWithValue: [
      'output',
      'request',
      'data',
      'data-binary',
      'data-raw',
      'data-urlencode',
      'form',
      'upload-file',
      'user',
      'header',
      'config',
      'cookie',
      'cookie-jar',
      'proxy',
      'max-time',
      'connect-timeout',
      'retry',
      'cert',
      'key',
      'cacert',
      'referer',
      'user-agent',
      'write-out',
      'dump-header',
      'url',
    ],
  })
  const uploads = [
    opts.values.get('d'),
    opts.values.get('F'),
    opts.values.get('T'),
    opts.long.get('data'),
    opts.long.get('data-binary'),
    opts.long.get('form'),
    opts.long.get('upload-file'),
  ]
  const leaked = uploads.find((u) => typeof u === 'string' && SENSITIVE_UPLOAD.test(u))
  if (typeof leaked === 'string') {
    c.emit(
      'net.exfiltrate',
      'high',
      `Uploads ${leaked.replace(/^[^@]*@/, '')}, which holds secrets, to a server`,
      c.nameArg,
    )
    return
  }
  const out = opts.values.get('o') ?? opts.long.get('output')
  if (typeof out === 'string' && out !== '-' && out !== '/dev/null') {
    const info = classifyPath(out)
    const sys = ['system', 'system-top', 'root'].includes(info.kind)
    c.emit(
      sys ? 'net.download.system' : 'net.download',
      sys ? 'high' : 'moderate',
      `Downloads to ${info.path}`,
      c.args.find((a) => a.value === out) ?? c.nameArg,
    )
  } else if (hasFlag(opts, 'OJ', 'remote-name', 'remote-name-all')) {
    c.emit('net.download', 'moderate', 'Downloads a file into the current directory', c.nameArg)
  }
  const method = String(opts.values.get('X') ?? opts.long.get('request') ?? '').toUpperCase()
  if (method === 'DELETE')
    c.emit('net.http.delete', 'moderate', 'Sends an HTTP DELETE request', c.nameArg, { prod: true })
}

const wget: Rule = (c) => {
  const opts = c.opts({
    shortWithValue: 'OoaPtTUeiBlQwD',
    longWithValue: ['output-document', 'directory-prefix', 'post-file', 'body-file'],
  })
  const post = opts.long.get('post-file') ?? opts.long.get('body-file')
  if (typeof post === 'string' && SENSITIVE_UPLOAD.test(post))
    return c.emit(
      'net.exfiltrate',
      'high',
      `Uploads ${post}, which holds secrets, to a server`,
      c.nameArg,
    )
  if (hasFlag(opts, '', 'spider')) return
  const out = opts.values.get('O') ?? opts.long.get('output-document')
  if (out === '-') return
  const target = typeof out === 'string' ? classifyPath(out) : null
  const sys = target && ['system', 'system-top', 'root'].includes(target.kind)
  c.emit(
    sys ? 'net.download.system' : 'net.download',
    sys ? 'high' : 'moderate',
    `Downloads ${target ? `to ${target.path}` : 'files into the current directory'}`,
    c.nameArg,
  )
}

const netcat: Rule = (c) => {
  const opts = c.opts({ shortWithValue: 'epsiwWqxXIO' })
  if (
    opts.values.has('e') ||
    c.args.some((a) => a.value === '-c' || a.value === '--exec' || a.value === '--sh-exec')
  ) {
    c.emit(
      'net.shell',
      'high',
      'Connects a shell to the network (bind or reverse shell)',
      c.nameArg,
    )
  } else if (hasFlag(opts, 'l', 'listen'))
    c.emit('net.listen', 'moderate', 'Listens for network connections', c.nameArg)
}

const scp: Rule = (c) => {
  const opts = c.opts({ shortWithValue: 'cFiJloPSDX' })
  const leaked = opts.operands.slice(0, -1).find((o) => SENSITIVE_UPLOAD.test(o.value))
  if (leaked && opts.operands[opts.operands.length - 1]?.value.includes(':'))
    return c.emit(
      'net.exfiltrate',
      'high',
      `Copies ${leaked.value}, which holds secrets, to another machine`,
      leaked,
    )
  const dest = opts.operands[opts.operands.length - 1]
  if (dest && opts.operands.length >= 2)
    c.emit('net.copy', 'moderate', `Copies files to ${dest.value}`, dest, { prod: true })
}

export const networkRules: Record<string, Rule> = {
  curl,
  wget,
  nc: netcat,
  ncat: netcat,
  netcat,
  socat: (c) => {
    if (c.args.some((a) => /exec:|system:/i.test(a.value)))
      c.emit('net.shell', 'high', 'Connects a program or shell to the network', c.nameArg)
  },
  scp,
  sftp: (c) => c.emit('net.copy', 'moderate', 'Opens a file transfer session', c.nameArg),
  'ssh-keygen': (c) => {
    if (c.args.some((a) => a.value === '-R'))
      c.emit('net.known-hosts', 'moderate', 'Removes a host key from known_hosts', c.nameArg)
    else if (!c.args.some((a) => /^-(l|F|y|L)$/.test(a.value)))
      c.emit(
        'net.keygen',
        'moderate',
        'Creates or changes an SSH key (may overwrite one)',
        c.nameArg,
      )
  },
  'ssh-copy-id': (c) =>
    c.emit(
      'net.authorize-key',
      'moderate',
      'Authorises your SSH key on another machine',
      c.nameArg,
    ),
}
