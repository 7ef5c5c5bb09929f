import type { CommandView, Rule } from '../rule'
import { globMatch } from '../glob'
import { hasFlag } from '../options'

/** Packages the system needs to boot, log in or manage packages. */
const ESSENTIAL_NAMES = [
  'libc6',
  'libc-bin',
  'glibc',
  'musl',
  'systemd',
  'coreutils',
  'bash',
  'dash',
  'busybox',
  'sudo',
  'apt',
  'dpkg',
  'rpm',
  'yum',
  'dnf',
  'apk-tools',
  'pacman',
  'linux-image-generic',
  'linux-image-6.1.0-amd64',
  'linux-generic',
  'kernel',
  'kernel-core',
  'grub2',
  'grub-pc',
  'grub-efi-amd64',
  'openssh-server',
  'init',
  'base-files',
  'alpine-baselayout',
  'util-linux',
  'login',
  'passwd',
  'python3',
  'python3-minimal',
  'perl-base',
  'linux',
  'linux-lts',
]
const ESSENTIAL =
  /^(libc6|libc-bin|glibc|musl|systemd|coreutils|bash|dash|busybox|sudo|apt|dpkg|rpm|yum|dnf|apk-tools|pacman|linux-image.*|linux-generic|kernel|kernel-core|grub.*|openssh-server|init|base-files|alpine-baselayout|util-linux|login|passwd|python3|python3-minimal|perl-base|linux|linux-lts|linux-zen|\*)$/

/** A package name or glob that removes something the system needs (`'python3*'`, `kernel*`). */
function essential(name: string): boolean {
  if (ESSENTIAL.test(name)) return true
  if (!/[*?[]/.test(name)) return false
  return ESSENTIAL_NAMES.some((n) => globMatch(name, n))
}

interface PackageVerbs {
  /** Subcommands that only read. */
  read: RegExp
  remove: RegExp
  /** Everything else that changes the system. */
  change: RegExp
}

const manager =
  (
    tool: string,
    verbs: PackageVerbs,
    dryRun: RegExp = /^(-s|--simulate|--dry-run|--just-print|--no-act|--recon|-n|--assumeno)$/,
  ): Rule =>
  (c) => {
    const opts = c.opts({
      shortWithValue: 'oct',
      longWithValue: ['option', 'config', 'target-release'],
    })
    const verbArg = opts.operands[0] ?? c.args.find((a) => /^-[A-Z]/.test(a.value))
    const verb = verbArg?.value ?? ''
    if (!verb || verbs.read.test(verb) || c.args.some((a) => dryRun.test(a.value))) return
    const pkgs = opts.operands.slice(1)
    if (verbs.remove.test(verb)) {
      if (!flagEssentialRemoval(c, pkgs))
        c.emit(
          'pkg.remove',
          'high',
          `Removes packages with ${tool}${pkgs.length ? `: ${pkgs.map((p) => p.value).join(' ')}` : ''}`,
          verbArg,
          { prod: true },
        )
      return
    }
    if (verbs.change.test(verb))
      c.emit(
        'pkg.change',
        'moderate',
        `${verb} packages with ${tool}${pkgs.length ? `: ${pkgs.map((p) => p.value).join(' ')}` : ''}`,
        verbArg,
        { prod: true },
      )
  }

const apt = manager('apt', {
  read: /^(list|search|show|showpkg|policy|depends|rdepends|madison|changelog|download|source|moo|help|-v|--version|check)$/,
  remove: /^(remove|purge|autoremove|autopurge)$/,
  change: /./,
})
const dnf = manager('dnf', {
  read: /^(list|search|info|provides|repolist|check-update|history|makecache|deplist|repoquery|help)$/,
  remove: /^(remove|erase|autoremove)$/,
  change: /./,
})
const pacman: Rule = (c) => {
  const op = c.args.find(
    (a) => /^-[A-Z]/.test(a.value) || /^--(sync|remove|upgrade|query|database)$/.test(a.value),
  )
  if (
    !op ||
    (/^-Q|^--query|^-S[a-z]*[si][a-z]*$|^-Ss/.test(op.value) && !/^-S[a-z]*[uy]/.test(op.value))
  )
    return
  if (/^-R|^--remove/.test(op.value)) {
    const pkgs = c.opts().operands
    if (!flagEssentialRemoval(c, pkgs))
      c.emit('pkg.remove', 'high', 'Removes packages with pacman', op)
  } else c.emit('pkg.change', 'moderate', 'Installs or upgrades packages with pacman', op)
}
const brew = manager('brew', {
  read: /^(list|ls|search|info|home|deps|uses|outdated|doctor|config|leaves|desc|--version|help)$/,
  remove: /^(uninstall|remove|rm|cleanup|autoremove|untap)$/,
  change: /./,
})
const simpleManager = (tool: string) =>
  manager(tool, {
    read: /^(list|ls|search|info|show|view|outdated|freeze|check|help|--version|-v|audit|why|explain|doctor|config|whoami|ping|prefix|root|bin|query|version|inspect|-l|-q|tree|metadata|fund|pack|test|t|run|run-script|exec|start|dev|build|lint|fmt|format|clippy|doc|bench|init|create|new)$/,
    remove: /^(uninstall|remove|rm|un|unlink|r|erase|purge|prune|autoremove)$/,
    change: /./,
  })

const npm: Rule = (c) => {
  const verb = c.opts().operands[0]?.value ?? ''
  if (/^(publish|unpublish|deprecate|dist-tag|owner|access|token|team)$/.test(verb)) {
    const dry = c.args.some((a) => a.value === '--dry-run')
    if (!dry)
      c.emit(
        'pkg.publish',
        verb === 'unpublish' ? 'high' : 'high',
        `npm ${verb} changes the public registry (hard to undo)`,
        c.args[0],
      )
    return
  }
  if (verb === 'cache' && c.args.some((a) => a.value === 'clean'))
    return c.emit('pkg.cache', 'moderate', 'Clears the npm cache', c.args[0])
  simpleManager(c.name)(c)
}

export const packageRules: Record<string, Rule> = {
  apt,
  'apt-get': apt,
  aptitude: apt,
  dpkg: (c) => {
    const opts = c.opts()
    if (hasFlag(opts, 'rP', 'remove', 'purge')) {
      const essentialPkg = opts.operands.find((p) => essential(p.value))
      c.emit(
        essentialPkg ? 'pkg.remove.essential' : 'pkg.remove',
        essentialPkg ? 'critical' : 'high',
        `Removes packages with dpkg: ${opts.operands.map((o) => o.value).join(' ')}`,
        c.nameArg,
      )
    } else if (hasFlag(opts, 'i', 'install', 'configure'))
      c.emit('pkg.change', 'moderate', 'Installs packages with dpkg', c.nameArg)
  },
  dnf,
  yum: dnf,
  microdnf: dnf,
  zypper: manager('zypper', {
    read: /^(search|se|info|if|list-updates|lu|repos|lr|packages|pa|patches)$/,
    remove: /^(remove|rm)$/,
    change: /./,
  }),
  rpm: (c) => {
    const opts = c.opts()
    if (hasFlag(opts, 'e', 'erase')) {
      if (opts.long.has('test')) return
      if (!flagEssentialRemoval(c, opts.operands))
        c.emit('pkg.remove', 'high', 'Removes packages with rpm', c.nameArg)
    } else if (hasFlag(opts, 'iUF', 'install', 'upgrade', 'freshen'))
      c.emit('pkg.change', 'moderate', 'Installs packages with rpm', c.nameArg)
  },
  apk: manager('apk', {
    read: /^(info|search|list|policy|stats|version|dot)$/,
    remove: /^(del|delete)$/,
    change: /./,
  }),
  pacman,
  yay: pacman,
  paru: pacman,
  brew,
  port: manager('port', {
    read: /^(list|search|info|installed|outdated|deps)$/,
    remove: /^(uninstall)$/,
    change: /./,
  }),
  snap: manager('snap', {
    read: /^(list|find|info|version|changes|services|connections)$/,
    remove: /^(remove)$/,
    change: /./,
  }),
  flatpak: manager('flatpak', {
    read: /^(list|search|info|remotes|history)$/,
    remove: /^(uninstall|remove)$/,
    change: /./,
  }),
  npm,
  pnpm: npm,
  yarn: npm,
  bun: npm,
  pip: simpleManager('pip'),
  pip3: simpleManager('pip'),
  pipx: simpleManager('pipx'),
  uv: simpleManager('uv'),
  gem: simpleManager('gem'),
  cargo: simpleManager('cargo'),
  composer: simpleManager('composer'),
  conda: simpleManager('conda'),
  mamba: simpleManager('mamba'),
}

/** Removing a package the system needs to run is critical; returns whether one was found. */
function flagEssentialRemoval(c: CommandView, pkgs: CommandView['args']): boolean {
  const found = pkgs.find((p) => essential(p.value))
  if (!found) return false
  c.emit(
    'pkg.remove.essential',
    'critical',
    `Removes ${found.value}, which the system needs to run`,
    found,
  )
  return true
}
