import { DYN } from './types'

/**
 * What a path argument points at, after normalisation (`~`, `$HOME`, `..`, `//`, `/*`, Windows
 * drive paths). Rules use the kind to tell `rm -rf /` (root) from `rm -rf ./build` (relative).
 */
export type PathKind =
  | 'root' // `/`, `/*`, `/..`, `C:\`
  | 'system-top' // a system directory itself: /etc, /usr, /usr/lib, C:\Windows
  | 'system' // something inside a system directory: /etc/hosts
  | 'homes' // the directory holding every user's home: /home, /Users
  | 'home' // a home directory itself: ~, $HOME, /home/alice, /root
  | 'home-sensitive' // keys and credentials: ~/.ssh, ~/.gnupg, ~/.aws, ~/.kube
  | 'home-child' // something inside a home directory
  | 'tmp' // /tmp and friends
  | 'disk' // a block device: /dev/sda, /dev/nvme0n1, /dev/disk2
  | 'pseudo-device' // /dev/null, /dev/stdout, /dev/tty...
  | 'net-device' // bash's /dev/tcp and /dev/udp
  | 'cwd' // the current directory or all of it: `.`, `*`, `./*`
  | 'parent' // climbs out of the current directory: `..`, `../..`
  | 'dynamic-root' // `$X/` or `"$X"/*`: becomes `/` when X is empty
  | 'dynamic' // only known at run time
  | 'relative'
  | 'absolute'

export interface PathInfo {
  kind: PathKind
  /** Normalised form, for messages (`~` stands for the home directory). */
  path: string
  /** True when the word is a glob (`*.log`, `/var/*`). */
  glob: boolean
  /** dynamic-root: what the path becomes when its variables are empty (`/usr/$X` → /usr). */
  emptyAs?: string
}

const SYSTEM_TOP = new Set([
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/opt',
  '/proc',
  '/sbin',
  '/srv',
  '/sys',
  '/usr',
  '/var',
  '/snap',
  '/efi',
  '/usr/bin',
  '/usr/sbin',
  '/usr/lib',
  '/usr/lib64',
  '/usr/local',
  '/usr/local/bin',
  '/usr/share',
  '/usr/include',
  '/var/lib',
  '/var/log',
  '/var/spool',
  '/var/mail',
  '/var/cache',
  '/var/db',
  '/etc/ssh',
  '/etc/systemd',
  '/boot/efi',
  '/system',
  '/library',
  '/applications',
  '/private',
  '/private/etc',
  '/private/var',
  '/cores',
  '/windows',
  '/windows/system32',
  '/program files',
  '/program files (x86)',
  '/programdata',
])
const SYSTEM_PREFIXES = [...SYSTEM_TOP].filter((p) => p.split('/').length === 2)
const TMP_DIRS = ['/tmp', '/var/tmp', '/private/tmp', '/dev/shm']
const HOMES = new Set(['/home', '/users'])
const SENSITIVE_HOME =
  /^~\/(\.ssh|\.gnupg|\.aws|\.kube|\.config|\.docker|\.password-store|\.local\/share\/keyrings|library\/keychains)(\/|$)/i
const DISK =
  /^\/dev\/(sd[a-z]|hd[a-z]|vd[a-z]|xvd[a-z]|nvme\d|mmcblk\d|disk\d|rdisk\d|mapper\/|md\d|dm-\d|loop\d|mem$|kmem$|port$|nbd\d|sr\d|zd\d|zvol\/)/
const NET_DEVICE = /^\/dev\/(tcp|udp)\//

export function classifyPath(
  raw: string,
  hostMounts: Array<{ host: string; inner: string }> = [],
): PathInfo {
  const glob = /[*?[]/.test(raw.replace(DYN, ''))
  if (raw.includes(DYN)) return classifyDynamic(raw, glob)
  let p = raw.trim()
  // Windows drive paths and backslashes: C:\Windows -> /windows
  if (/^[a-zA-Z]:([\\/]|$)/.test(p)) p = p.slice(2).replace(/\\/g, '/') || '/'
  if (/^(\$env:(USERPROFILE|HOME)|\$HOME|\$\{HOME\}|~)(?=\/|\\|$)/i.test(p)) {
    p = '~' + p.replace(/^(\$env:(USERPROFILE|HOME)|\$HOME|\$\{HOME\}|~)/i, '').replace(/\\/g, '/')
  } else if (/^~[A-Za-z_][\w.-]*/.test(p)) {
    p = '/home/' + p.slice(1)
  }
  let norm = normalise(p)
  for (const m of hostMounts) {
    if (norm === m.inner || norm.startsWith(m.inner + '/')) {
      norm = normalise(m.host + '/' + norm.slice(m.inner.length))
    }
  }
  // `dir/*` and `dir/.*` act on everything in dir: rate them like dir itself.
  // `dir/*`, `dir/**/*`, `dir/.[!.]*`: everything in dir (one path segment of pure glob each).
  const target =
    norm.replace(/(\/(\.?\*|\*\*|\.\[!\.\]\*|\.\?\*|\*\.\*))+$/, '') ||
    (norm.startsWith('/') ? '/' : '.')
  const lower = target.toLowerCase()
  const info = (kind: PathKind): PathInfo => ({ kind, path: norm, glob })
  if (target.startsWith('~')) {
    if (target === '~') return info('home')
    if (SENSITIVE_HOME.test(lower)) return info('home-sensitive')
    return info('home-child')
  }
  if (target.startsWith('/')) {
    if (target === '/') return info('root')
    if (SYSTEM_TOP.has(lower)) return info('system-top')
    if (HOMES.has(lower)) return info('homes')
    if (/^\/(home|users)\/[^/]+$/.test(lower) || lower === '/root') return info('home')
    if (/^\/(home|users)\/[^/]+\//.test(lower) || lower.startsWith('/root/')) {
      const rest = '~' + lower.replace(/^\/(home|users)\/[^/]+|^\/root/, '')
      return info(SENSITIVE_HOME.test(rest) ? 'home-sensitive' : 'home-child')
    }
    if (NET_DEVICE.test(lower)) return info('net-device')
    if (DISK.test(lower)) return info('disk')
    if (lower.startsWith('/dev/')) return info('pseudo-device')
    if (TMP_DIRS.some((t) => lower === t || lower.startsWith(t + '/'))) return info('tmp')
    if (SYSTEM_PREFIXES.some((s) => lower.startsWith(s + '/'))) return info('system')
    return info('absolute')
  }
  if (target === '.' || target === '*') return info('cwd')
  if (target === '..' || target.startsWith('../')) {
    // Enough `..` climbs to / from any working directory.
    const ups = target.split('/').filter((s) => s === '..').length
    return info(ups >= 8 && /^(\.\.\/?)+$/.test(target + '/') ? 'root' : 'parent')
  }
  return info('relative')
}

function classifyDynamic(raw: string, glob: boolean): PathInfo {
  const first = raw.indexOf(DYN)
  const rest = raw.slice(raw.lastIndexOf(DYN) + 1)
  if (first === 0 && /^\/*(\.?\*)?$/.test(rest) && rest.length > 0) {
    return { kind: 'dynamic-root', path: raw.replaceAll(DYN, '$VAR'), glob }
  }
  const shown = raw.replaceAll(DYN, '$VAR')
  if (first > 0 && raw.split('/').every((seg) => !seg.includes(DYN) || seg === DYN)) {
    // `/home/$(id -un)`, `/Users/$USER`: a user's home directory whatever the name.
    const onlyOne = first === raw.lastIndexOf(DYN)
    if (onlyOne && /^\/(home|users)\/$/i.test(raw.slice(0, first)) && /^\/?(\.?\*)?$/.test(rest))
      return { kind: 'home', path: shown, glob }
    // Variables that are whole path segments: `/$PREFIX`, `/usr/$X/` are / and /usr when empty.
    const emptied = classifyPath(raw.replaceAll(DYN, '') || '/')
    const tail = /^\/*(\.?\*)?$/.test(rest)
    // (`/home/$USER/notes.txt` is no home directory when USER is empty: /home/x is only a name.)
    if (['root', 'system-top', 'homes'].includes(emptied.kind) || (tail && emptied.kind === 'home'))
      return { kind: 'dynamic-root', path: shown, glob, emptyAs: emptied.path }
  }
  if (first > 0) {
    // A literal prefix decides where it points: /etc/$X is still in /etc.
    const prefix = raw.slice(0, first)
    if (prefix.includes('/') || prefix.startsWith('~')) {
      const dir = prefix.slice(0, prefix.lastIndexOf('/') + 1) + 'x'
      const info = classifyPath(dir)
      if (info.kind !== 'relative' && info.kind !== 'absolute') {
        const kind = info.kind === 'home' ? 'home-child' : info.kind
        return { kind, path: raw.replaceAll(DYN, '$VAR'), glob }
      }
    }
  }
  return { kind: 'dynamic', path: raw.replaceAll(DYN, '$VAR'), glob }
}

/** Collapses `//`, `.` and `..`; `..` above / stays at /. Keeps leading `..` of relative paths. */
export function normalise(p: string): string {
  const absolute = p.startsWith('/')
  const home = p.startsWith('~')
  const parts = p.split('/')
  const out: string[] = []
  for (const [i, part] of parts.entries()) {
    if (i === 0 && (home || absolute)) continue
    if (part === '' || part === '.') continue
    if (part === '..') {
      if (out.length && out[out.length - 1] !== '..') out.pop()
      else if (!absolute && !home) out.push('..')
      continue
    }
    out.push(part)
  }
  if (home) return out.length ? '~/' + out.join('/') : '~'
  if (absolute) return '/' + out.join('/')
  const rel = out.join('/') || '.'
  // `./~` is a file named `~` here, not the home directory.
  return rel.startsWith('~') ? `./${rel}` : rel
}

/** Paths whose loss breaks the whole system even when only the file is overwritten. */
export function isCriticalSystemFile(path: string): boolean {
  return /^\/(etc\/(passwd|shadow|group|gshadow|sudoers|fstab|crypttab|ld\.so\.preload|pam\.d\/[^/]+)|boot\/.+|bin\/(ba)?sh|usr\/bin\/(sudo|bash|sh))$/.test(
    path.toLowerCase(),
  )
}

/** Files whose write crashes, reboots or powers off the kernel at once. */
export function isKernelTrigger(path: string): boolean {
  return /^\/proc\/sysrq-trigger$|^\/sys\/power\/state$|^\/proc\/sys\/kernel\/panic$/.test(path)
}

/** Names that say production: raise the rating of anything that changes them. */
export function looksLikeProduction(text: string): boolean {
  return /(^|[^a-z])(prod|production|prd|live)([^a-z]|$)/i.test(text)
}
