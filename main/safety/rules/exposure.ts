import type { CommandView, Rule } from '../rule'
import { parseOptions } from '../options'
import { baseName } from '../static-output'
import type { Arg, SimpleCommand } from '../types'
import { DYN } from '../types'

/**
 * Exposure and exfiltration: serving a directory over HTTP, sending secrets (keys, credentials,
 * the environment) to another machine, tunnels that open a local port to the internet.
 */

/** `at` (a file or folder holding keys or credentials) leaves the machine for `where`. */
export function emitSecretLeaves(
  c: CommandView,
  at: Arg,
  verb: 'Uploads' | 'Copies',
  where: string,
): void {
  c.emit(
    'net.exfiltrate',
    'high',
    `${verb} ${at.value}, which holds keys or credentials, to ${where}`,
    at,
  )
}

/** Paths that hold keys and credentials. */
export const SECRET_PATH =
  /(^|\/|@)(\.ssh(\/|$)|id_(rsa|ed25519|ecdsa|dsa)\b|\.aws(\/|$)|\.kube(\/|$)|\.gnupg(\/|$)|\.netrc$|\.npmrc$|\.pgpass$|\.docker\/config\.json$|\.env$|\/etc\/shadow$|\/etc\/gshadow$|\.git-credentials$|\.bash_history$|\.zsh_history$|\.password-store(\/|$)|\.config\/gcloud(\/|$)|\.azure(\/|$)|keychains?(\/|$)|\.vault-token$|\.config\/gh\/hosts\.yml$)/i

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1|\[::1\])$/

/** Serving a directory over HTTP: the home or root directory exposes keys and credentials. */
export function serveDirectory(
  c: CommandView,
  dir: string,
  at: Arg,
  args: Arg[],
  bind?: string,
): void {
  const info = c.pathOf(dir)
  const local =
    (bind !== undefined && LOOPBACK.test(bind)) ||
    args.some((a) =>
      /^(--bind=|-b=?|--host=|-a=?|--address=)?(127\.0\.0\.1|localhost|::1)(:\d+)?$/.test(a.value),
    )
  const shown = info.path.replaceAll(DYN, '$VAR')
  const sensitive = ['root', 'system-top', 'homes', 'home', 'home-sensitive'].includes(info.kind)
  if (sensitive && !local) {
    c.emit(
      'net.serve.sensitive',
      'high',
      `Serves ${shown} over HTTP to anyone who can reach this machine (keys and credentials included)`,
      at,
    )
    return
  }
  c.emit(
    'net.serve',
    'moderate',
    `Serves ${shown === '.' ? 'the current directory' : shown} over HTTP${local ? ' on this machine' : ' to the network'}`,
    at,
  )
}

/** What a pipeline reads that is secret: key files, the environment, exported private keys. */
export function secretSource(pipeline: SimpleCommand[] | undefined): string | null {
  for (const cmd of pipeline ?? []) {
    const words = cmd.words.map((w) => w.value)
    const name = baseName(words[0] ?? '')
    const args = words.slice(1)
    if (/^(env|printenv|set|export)$/.test(name) && args.every((a) => a.startsWith('-')))
      return 'the environment (tokens and passwords live there)'
    if (name === 'gpg' && args.some((a) => /^--export-secret(-sub)?-keys$/.test(a)))
      return 'your private GPG keys'
    if (
      name === 'security' &&
      args.some((a) => /^(dump-keychain|find-generic-password|find-internet-password)$/.test(a))
    )
      return 'the keychain'
    const secret = args.find((a) => SECRET_PATH.test(a.replace(/^@/, '')))
    if (secret) return secret.replaceAll(DYN, '$VAR')
    if (/^(tar|zip|7z|rsync|cpio)$/.test(name)) {
      const whole = args.find(
        (a) => a === '/' || a === '~' || a === '~/' || /^\/(home|Users|root)\/?$/.test(a),
      )
      if (whole) return `all of ${whole}`
    }
  }
  return null
}

/** A path that holds keys or credentials, or a file this line filled with them (`zip k.zip ~/.ssh`). */
export function holdsSecrets(c: CommandView, path: string): boolean {
  // A public key or the known hosts are meant to be shared.
  if (/\.pub$|known_hosts$/.test(path)) return false
  return SECRET_PATH.test(path) || c.engine.holdsSecrets(c, path)
}

/** Archivers and copiers, and where their output goes: the first operand or the last. */
const COPIERS: Record<string, 'first' | 'last' | 'tar'> = {
  zip: 'first',
  '7z': 'first',
  '7za': 'first',
  rar: 'first',
  tar: 'tar',
  cp: 'last',
  gpg: 'first',
}

/**
 * Files this command fills with keys or credentials (`zip -r k.zip ~/.gnupg`, `tar czf x ~/.ssh`,
 * `cat ~/.aws/credentials > c`), so an upload of them later in the line is rated as exfiltration.
 */
export function secretCopies(c: CommandView): string[] {
  const how = Object.hasOwn(COPIERS, c.name) ? COPIERS[c.name] : undefined
  if (!how && !c.cmd.redirects.length) return []
  if (!secretSource([c.cmd])) return []
  const out = c.cmd.redirects
    .filter((r) => /^(>|>>|>\||&>)$/.test(r.op) && r.target)
    .map((r) => r.target!.value)
  const operands = c.args.filter((a) => !a.value.startsWith('-')).map((a) => a.value)
  if (how === 'tar') {
    const f = c.args.findIndex((a) => /^-?[a-zA-Z]*f$/.test(a.value) || a.value === '--file')
    const named = f >= 0 ? c.args[f + 1]?.value : undefined
    if (named && named !== '-') out.push(named)
  } else if (how === 'first') {
    const at = c.name.startsWith('7z') || c.name === 'rar' ? 1 : 0
    if (operands[at]) out.push(operands[at])
  } else if (how === 'last' && operands.length > 1) out.push(operands[operands.length - 1]!)
  return out.filter((p) => !p.includes(DYN))
}

/** A program that sends its standard input to another machine. */
export function sendsStdin(c: CommandView): boolean {
  const values = c.args.map((a) => a.value)
  switch (c.name) {
    case 'nc':
    case 'ncat':
    case 'netcat':
    case 'socat':
    case 'telnet':
    case 'ssh':
      return true
    case 'curl':
      return values.some((v, i) =>
        /^(-d|--data|--data-binary|--data-raw|--data-urlencode|-F|--form|-T|--upload-file)$/.test(
          values[i - 1] ?? '',
        )
          ? /(^|=)@-$|^-$/.test(v)
          : /^(--data(-binary|-raw|-urlencode)?=|-d)@-$/.test(v),
      )
    case 'wget':
      return values.some((v) => /^--(post|body)-file=(-|\/dev\/stdin)$/.test(v))
    case 'openssl':
      return values.includes('s_client')
    default:
      return false
  }
}

/** Rates sending secrets piped from earlier in the line to another machine. */
export function exfiltration(c: CommandView): boolean {
  if (!sendsStdin(c)) return false
  // `nc host 4444 < ~/.ssh/id_rsa`: a secret file as standard input.
  const file = c.cmd.redirects.find(
    (r) => r.op === '<' && r.target && holdsSecrets(c, r.target.value),
  )
  if (file?.target) {
    c.emit('net.exfiltrate', 'high', `Sends ${file.target.value} to another machine`, file.span)
    return true
  }
  const stdin = c.cmd.stdin
  if (stdin.kind === 'none') return false
  const pipeline = 'pipeline' in stdin ? stdin.pipeline : undefined
  const secret = secretSource(pipeline)
  if (!secret) return false
  c.emit('net.exfiltrate', 'high', `Sends ${secret} to another machine`, {
    start: stdin.span.start,
    end: c.nameArg.span.end,
  })
  return true
}

const httpServer: Rule = (c) => {
  const opts = parseOptions(c.args, {
    shortWithValue: 'pahdPcSCKel',
    longWithValue: ['port', 'address', 'host', 'root', 'dir', 'listen'],
  })
  const dir =
    opts.values.get('h') ??
    opts.values.get('d') ??
    (typeof opts.long.get('root') === 'string' ? String(opts.long.get('root')) : undefined) ??
    opts.operands.find((o) => !/^\d+$/.test(o.value))?.value ??
    '.'
  const bind = opts.values.get('a') ?? opts.long.get('address') ?? opts.long.get('host')
  serveDirectory(c, dir, c.nameArg, c.args, typeof bind === 'string' ? bind : undefined)
}

const ngrok: Rule = (c) => {
  const [proto, target] = c.opts().operands
  if (!proto || !/^(tcp|http|https|tls|start)$/.test(proto.value)) return
  const port = target?.value.replace(/^.*:/, '') ?? ''
  const risky = proto.value === 'tcp' || /^(22|3389|5900|3306|5432|6379|27017|2375)$/.test(port)
  c.emit(
    'net.tunnel',
    risky ? 'high' : 'moderate',
    `Opens ${target?.value ?? 'a local port'} to the internet through a tunnel${risky ? ' (a login or database port)' : ''}`,
    c.nameArg,
  )
}

/** rclone copy/sync/move SRC DEST: secrets copied to a remote; purge/delete remove remote data. */
const rclone: Rule = (c) => {
  const opts = c.opts({
    shortWithValue: 'P',
    longWithValue: ['config', 'transfers', 'include', 'exclude', 'filter'],
  })
  const [verb, ...rest] = opts.operands
  if (!verb || opts.long.has('dry-run') || c.args.some((a) => a.value === '-n')) return
  const v = verb.value
  if (/^(copy|sync|move|copyto|moveto)$/.test(v)) {
    const secret = rest
      .slice(0, -1)
      .find((a) => SECRET_PATH.test(a.value) || /^(~|\/)\/?$/.test(a.value))
    if (secret) return emitSecretLeaves(c, secret, 'Copies', 'remote storage')
    c.emit(
      v === 'sync' ? 'fs.rclone.sync' : 'fs.rclone',
      v === 'sync' ? 'high' : 'moderate',
      v === 'sync'
        ? `Makes ${rest[rest.length - 1]?.value ?? 'the destination'} identical to the source, deleting what is not there`
        : `Copies files to ${rest[rest.length - 1]?.value ?? 'remote storage'}`,
      verb,
      { prod: true },
    )
    return
  }
  if (/^(purge|delete|deletefile|rmdir|rmdirs|cleanup)$/.test(v))
    c.emit(
      'cloud.storage.delete',
      v === 'purge' ? 'high' : 'high',
      `Deletes ${rest[0]?.value ?? 'remote files'} from remote storage`,
      verb,
      { prod: true },
    )
}

/**
 * `dockerd -H tcp://0.0.0.0:2375`: the Docker API on a TCP port without client certificates is
 * root on this machine for anyone who can reach the port.
 */
const dockerd: Rule = (c) => {
  const values = c.args.map((a) => a.value)
  const hosts = values.flatMap((v, i) =>
    /^(-H|--host)$/.test(v)
      ? [{ value: values[i + 1] ?? '', at: c.args[i + 1] }]
      : /^(-H|--host=)./.test(v)
        ? [{ value: v.replace(/^(-H=?|--host=)/, ''), at: c.args[i] }]
        : [],
  )
  const tcp = hosts.find((h) => /^tcp:\/\//i.test(h.value))
  if (!tcp) return
  const addr = tcp.value.replace(/^tcp:\/\//i, '').replace(/:\d*$/, '')
  const local = LOOPBACK.test(addr)
  const tls = values.some((v) => /^--tlsverify(=true)?$/.test(v))
  const open = !local && !tls
  c.emit(
    open ? 'net.docker-api.open' : 'net.docker-api',
    open ? 'critical' : 'high',
    open
      ? `Serves the Docker API on ${tcp.value} without authentication: root on this machine for anyone who can reach the port`
      : `Serves the Docker API (root on this machine) on ${tcp.value}${tls ? ' to holders of a client certificate' : ' to every local user'}`,
    tcp.at ?? c.nameArg,
  )
}

export const exposureRules: Record<string, Rule> = {
  rclone,
  dockerd,
  serve: httpServer,
  'http-server': httpServer,
  httpd: httpServer,
  'live-server': httpServer,
  ngrok,
  cloudflared: (c) => {
    if (c.args.some((a) => a.value === '--url' || a.value === 'tunnel'))
      c.emit(
        'net.tunnel',
        'moderate',
        'Opens a local service to the internet through a tunnel',
        c.nameArg,
      )
  },
}
