import type { CommandView, Rule } from '../rule'
import { hasFlag } from '../options'
import { classifyPath, isCriticalSystemFile, isKernelTrigger, type PathInfo } from '../paths'
import { emitSecretLeaves, SECRET_PATH } from './exposure'
import type { Arg, Risk } from '../types'
import { DYN } from '../types'

interface DeleteOptions {
  recursive: boolean
  /** The operation, for messages: "Deletes", "Shreds". */
  verb: string
  ruleBase: string
  /** Some matching files only (find with -name), rather than everything. */
  narrowed?: boolean
  /** Asks before each deletion (`rm -i`). */
  asks?: boolean
}

/** Rates deleting one target; shared by rm, find -delete, rimraf, Remove-Item and friends. */
export function rateDelete(c: CommandView, target: Arg, o: DeleteOptions): void {
  const info = c.path(target)
  const [rated, what] = deleteRisk(info, o)
  const risk: Risk = o.asks && rated === 'high' ? 'moderate' : rated
  c.emit(`${o.ruleBase}.${info.kind}`, risk, `${o.verb} ${what}`, target, { prod: true })
}

function deleteRisk(info: PathInfo, o: DeleteOptions): [Risk, string] {
  const p = info.path
  const all = o.recursive || info.glob
  const some = o.narrowed ? `matching files under ${p}` : null
  switch (info.kind) {
    case 'root':
      if (o.narrowed) return ['high', `${some} across the whole system`]
      return all ? ['critical', `everything under / (the whole system)`] : ['high', `files at /`]
    case 'system-top':
      if (o.narrowed) return ['high', `${some}, a system directory`]
      return all ? ['critical', `the system directory ${p} and its contents`] : ['high', `${p}`]
    case 'homes':
      if (o.narrowed) return ['high', `${some}, every user's home`]
      return all ? ['critical', `every user's home directory (${p})`] : ['high', p]
    case 'home':
      if (o.narrowed) return ['high', `${some} in a home directory`]
      return all ? ['critical', `the home directory ${p} and everything in it`] : ['high', p]
    case 'dynamic-root': {
      const empty = info.emptyAs ?? '/'
      const whole = empty === '/' ? '/ (the whole system)' : empty
      return o.recursive
        ? ['critical', `${p}: if the variable is empty this is ${whole}`]
        : ['high', `${p}, which becomes ${empty} when the variable is empty`]
    }
    case 'system':
      if (!o.narrowed && isCriticalSystemFile(p))
        return ['critical', `${p}, which the system needs to boot or log in`]
      return ['high', `${some ?? p} in a system directory`]
    case 'home-sensitive':
      return ['high', `${some ?? p}, where keys or credentials live`]
    case 'disk':
      return ['high', `the device node ${p}`]
    case 'cwd':
      return o.narrowed
        ? ['moderate', `matching files in the current directory`]
        : ['high', `everything in the current directory`]
    case 'parent':
      return ['high', `${some ?? p}, outside the current directory`]
    case 'tmp':
      if (/^\/(private\/)?(var\/)?tmp$/.test(p))
        return ['high', `the temporary directory ${p} itself`]
      return ['moderate', `${some ?? p} (temporary files)`]
    case 'pseudo-device':
    case 'net-device':
      return ['moderate', p]
    case 'dynamic':
      return o.recursive
        ? ['high', `${p} recursively, a path only known at run time`]
        : ['moderate', `${p}, a path only known at run time`]
    default:
      if (o.narrowed) return ['moderate', some ?? p]
      if (o.recursive) return ['high', `${p} recursively (no undo)`]
      if (info.glob) return ['high', `every file matching ${p}`]
      return ['moderate', p]
  }
}

const rm: Rule = (c) => {
  const opts = c.opts()
  const recursive = hasFlag(opts, 'rR', 'recursive')
  if (opts.long.has('no-preserve-root')) {
    const flag = opts.flagWords.find((w) => w.value === '--no-preserve-root')
    c.emit(
      'fs.rm.no-preserve-root',
      'critical',
      'Disables the guard that stops rm from deleting /',
      flag,
    )
  }
  if (opts.operands.length === 0 && !opts.long.has('help')) return
  // -i asks before each file: one level milder, except where one yes destroys the system.
  const asks = hasFlag(opts, 'i', 'interactive') && !hasFlag(opts, 'f', 'force')
  for (const t of opts.operands)
    rateDelete(c, t, { recursive, verb: 'Deletes', ruleBase: 'fs.rm', asks })
}

const rimraf: Rule = (c) => {
  for (const t of c.opts().operands)
    rateDelete(c, t, { recursive: true, verb: 'Deletes', ruleBase: 'fs.rm' })
}

const moveOrCopy =
  (kind: 'mv' | 'cp'): Rule =>
  (c) => {
    const opts = c.opts({ shortWithValue: 'tS', longWithValue: ['target-directory', 'suffix'] })
    const targetDir =
      opts.values.get('t') ??
      (typeof opts.long.get('target-directory') === 'string'
        ? String(opts.long.get('target-directory'))
        : null)
    const operands = [...opts.operands]
    const dest = targetDir !== null ? { ...c.nameArg, value: targetDir } : operands.pop()
    if (!dest) return
    const d = c.path(dest)
    if (kind === 'mv') {
      for (const src of operands) {
        const s = c.path(src)
        if (s.kind === 'root' || s.kind === 'system-top' || s.kind === 'homes') {
          c.emit('fs.mv.system', 'critical', `Moves ${s.path} away, which breaks the system`, src)
        } else if (s.kind === 'home') {
          c.emit(
            'fs.mv.home',
            'critical',
            `Moves the home directory ${s.path} away (logins, keys and settings break)`,
            src,
          )
        } else if (s.kind === 'system' && isCriticalSystemFile(s.path)) {
          c.emit(
            'fs.mv.system-critical',
            'critical',
            `Moves ${s.path} away, which the system needs to boot or log in`,
            src,
          )
        } else if (s.kind === 'system' || s.kind === 'home-sensitive') {
          c.emit('fs.mv.system-file', 'high', `Moves ${s.path} out of place`, src)
        }
      }
    }
    if (d.kind === 'disk') {
      c.emit(`fs.${kind}.disk`, 'critical', `Writes over the disk device ${d.path}`, dest)
    } else if (d.path === '/dev/null' && kind === 'mv') {
      c.emit('fs.mv.dev-null', 'high', 'Moves files onto /dev/null, destroying them', dest)
    } else if (d.kind === 'system' || d.kind === 'system-top' || d.kind === 'root') {
      const critical = isCriticalSystemFile(d.path)
      c.emit(
        `fs.${kind}.into-system`,
        critical ? 'critical' : 'high',
        `Writes into the system location ${d.path}`,
        dest,
      )
    } else if (d.kind === 'home-sensitive') {
      c.emit(
        `fs.${kind}.credentials`,
        'high',
        `Writes over ${d.path}, where keys or credentials live`,
        dest,
      )
    } else {
      const verb = kind === 'mv' ? 'Moves files to' : 'Copies files to'
      c.emit(
        `fs.${kind}`,
        'moderate',
        `${verb} ${d.path.replaceAll(DYN, '$VAR')} (may overwrite)`,
        dest,
      )
    }
  }

/** Commands that modify the files they are given: rated by where those files are. */
const modifyFiles =
  (ruleId: string, verb: string, spec = {}): Rule =>
  (c) => {
    const opts = c.opts(spec)
    for (const t of opts.operands) {
      const info = c.path(t)
      if (isKernelTrigger(info.path)) {
        c.emit(
          'sys.kernel-trigger',
          'critical',
          `${verb} ${info.path}, which can crash or reboot the machine at once`,
          t,
        )
        continue
      }
      if (info.kind === 'disk')
        c.emit(`${ruleId}.disk`, 'critical', `${verb} the disk device ${info.path}`, t)
      else if (info.kind === 'pseudo-device') continue
      else if (['system', 'system-top', 'root'].includes(info.kind)) {
        const critical = isCriticalSystemFile(info.path) && ruleId !== 'fs.touch'
        c.emit(
          `${ruleId}.system`,
          critical ? 'critical' : 'high',
          `${verb} the system file ${info.path}`,
          t,
        )
      } else if (info.kind === 'home-sensitive')
        c.emit(`${ruleId}.credentials`, 'high', `${verb} ${info.path}`, t)
      else c.emit(ruleId, 'moderate', `${verb} ${info.path.replaceAll(DYN, '$VAR')}`, t)
    }
  }

const tee: Rule = (c) => {
  const opts = c.opts()
  const append = hasFlag(opts, 'a', 'append')
  modifyFiles(append ? 'fs.tee.append' : 'fs.tee', append ? 'Appends to' : 'Overwrites')(c)
}

const sedInPlace: Rule = (c) => {
  const inPlace = c.args.some(
    (a) => /^(-i|--in-place)/.test(a.value) || /^-[a-zA-Z]*i/.test(a.value),
  )
  if (!inPlace) return
  const opts = c.opts({ shortWithValue: 'ef', longWithValue: ['expression', 'file'] })
  const hasScriptFlag = opts.values.has('e') || opts.values.has('f') || opts.long.has('expression')
  const files = hasScriptFlag ? opts.operands : opts.operands.slice(1)
  modifyFiles(
    'fs.edit-in-place',
    'Edits in place',
  )({ ...c, opts: () => ({ ...opts, operands: files }) })
}

const shred: Rule = (c) => {
  for (const t of c.opts({ shortWithValue: 'ns' }).operands) {
    const info = c.path(t)
    if (info.kind === 'disk')
      c.emit('disk.shred', 'critical', `Overwrites the whole disk ${info.path} with random data`, t)
    else if (info.kind === 'root' || info.kind === 'system-top' || info.kind === 'system') {
      c.emit(
        'fs.shred.system',
        'critical',
        `Irrecoverably destroys the system file ${info.path}`,
        t,
      )
    } else if (info.kind === 'home-sensitive')
      c.emit('fs.shred', 'high', `Irrecoverably destroys ${info.path}, where keys live`, t)
    else
      // Shredding a file is deleting it (rm has no undo either); a device or a glob is more.
      c.emit(
        'fs.shred',
        info.glob || info.kind === 'dynamic' ? 'high' : 'moderate',
        `Irrecoverably destroys ${info.path.replaceAll(DYN, '$VAR')}`,
        t,
      )
  }
}

const PERMISSIVE_MODE = /^(0?[0-7]?[0-7][0-7]7|a\+[rwx]*w|o\+[rwx]*w|\+w|[ugo]*=rwx.*|777|666)$/
const chmod: Rule = (c) => {
  const opts = c.opts({ longWithValue: ['reference'] })
  const recursive = hasFlag(opts, 'R', 'recursive')
  // A mode like -x or -w looks like a flag: take it as the mode.
  const modeWord = opts.operands[0]?.value.match(/^[0-7]{3,4}$|^[ugoa]*[-+=]/)
    ? opts.operands[0]
    : opts.flagWords.find((w) => /^-[rwxXst]+$/.test(w.value))
  const mode = modeWord?.value ?? ''
  const targets = opts.operands.filter((t) => t !== modeWord)
  const setuid =
    /^[0-7]?[4-7][0-7]{3}$/.test(mode) && mode.length === 4 ? true : /[ug]\+[rwx]*s/.test(mode)
  const open = PERMISSIVE_MODE.test(mode)
  const none = /^0?00[0]$/.test(mode) || /^a?-rwx$/.test(mode)
  for (const t of targets)
    rateOwnership(c, t, 'chmod', recursive, { open, setuid, none, what: `permissions to ${mode}` })
}

const chown =
  (name: 'chown' | 'chgrp'): Rule =>
  (c) => {
    const opts = c.opts({ longWithValue: ['reference', 'from'] })
    const recursive = hasFlag(opts, 'R', 'recursive')
    const [owner, ...targets] = opts.operands
    for (const t of targets)
      rateOwnership(c, t, name, recursive, {
        open: false,
        setuid: false,
        none: false,
        what: `owner to ${owner?.value ?? ''}`,
      })
  }

/** Rates a permission or ownership change by where it applies and how far it opens things. */
export function rateOwnership(
  c: CommandView,
  t: Arg,
  name: string,
  recursive: boolean,
  m: { open: boolean; setuid: boolean; none: boolean; what: string },
): void {
  const info = c.path(t)
  const p = info.path.replaceAll(DYN, '$VAR')
  const whole = ['root', 'system-top', 'homes', 'home', 'dynamic-root'].includes(info.kind)
  if (whole && (recursive || info.glob)) {
    c.emit(
      `perm.${name}.system-recursive`,
      'critical',
      `Recursively changes ${m.what} on ${p}, breaking the system or its security`,
      t,
    )
  } else if (whole || info.kind === 'system' || info.kind === 'home-sensitive') {
    const risk: Risk =
      (m.none && info.kind !== 'home-sensitive' && info.kind !== 'system') ||
      (m.open && info.kind === 'system' && isCriticalSystemFile(info.path))
        ? 'critical'
        : 'high'
    c.emit(`perm.${name}.system`, risk, `Changes ${m.what} on ${p}`, t)
  } else if (m.setuid) {
    c.emit(
      `perm.${name}.setuid`,
      'high',
      `Makes ${p} run with its owner's privileges (setuid/setgid)`,
      t,
    )
  } else if (m.open && recursive) {
    c.emit(
      `perm.${name}.world-writable`,
      'high',
      `Makes everything under ${p} writable by every user`,
      t,
    )
  } else if (m.open) {
    c.emit(`perm.${name}.world-writable`, 'moderate', `Makes ${p} writable by every user`, t)
  } else {
    c.emit(
      `perm.${name}`,
      'moderate',
      `Changes ${m.what} on ${p}${recursive ? ' recursively' : ''}`,
      t,
    )
  }
}

const NARROWING = new Set([
  '-name',
  '-iname',
  '-path',
  '-ipath',
  '-wholename',
  '-regex',
  '-iregex',
  '-mtime',
  '-mmin',
  '-atime',
  '-amin',
  '-ctime',
  '-cmin',
  '-newer',
  '-size',
  '-user',
  '-group',
  '-empty',
  '-inum',
  '-samefile',
  '-links',
  '-perm',
  '-nouser',
  '-nogroup',
  '-lname',
  '-ilname',
])
const find: Rule = (c) => {
  const args = c.args
  let i = 0
  while (i < args.length && /^-[HLP]$|^-D$|^-O\d?$/.test(args[i]!.value))
    i += args[i]!.value === '-D' ? 2 : 1
  const starts: Arg[] = []
  while (i < args.length && !/^[-(!]/.test(args[i]!.value)) starts.push(args[i++]!)
  if (!starts.length) starts.push({ ...c.nameArg, value: '.', raw: '.' })
  const expr = args.slice(i)
  const narrowed = expr.some((a) => NARROWING.has(a.value))
  for (let j = 0; j < expr.length; j++) {
    const a = expr[j]!
    if (a.value === '-delete') {
      for (const s of starts)
        rateDelete(c, s, { recursive: true, narrowed, verb: 'Deletes', ruleBase: 'fs.find-delete' })
    } else if (/^-(exec|execdir|ok|okdir)$/.test(a.value)) {
      let k = j + 1
      while (k < expr.length && expr[k]!.value !== ';' && expr[k]!.value !== '+') k++
      const words = expr.slice(j + 1, k)
      j = k
      if (!words.length) continue
      for (const s of starts) {
        const base = c.path(s).path
        // Without tests find hands over everything under the start: every file there.
        const item = narrowed
          ? `${base === '/' ? '' : base}/<found>`
          : `${base === '/' ? '' : base}/*`
        const inner = words.map((w) =>
          w.value.includes('{}')
            ? {
                ...w,
                value: w.value.replaceAll('{}', item),
                span: s.span === w.span ? w.span : w.span,
              }
            : w,
        )
        c.engine.runWords(inner, c.cmd, c.ctx, `find ${a.value}`)
      }
    } else if (/^-f(print|print0|printf|ls)$/.test(a.value)) {
      const file = expr[j + 1]
      if (file)
        c.emit('fs.find.write', 'moderate', `Writes the list of found files to ${file.value}`, file)
    }
  }
}

const rsync: Rule = (c) => {
  const opts = c.opts({
    shortWithValue: 'efT',
    longWithValue: ['exclude', 'include', 'filter', 'rsh', 'files-from', 'rsync-path'],
  })
  if (hasFlag(opts, 'n', 'dry-run', 'list-only')) return
  const del = [...opts.long.keys()].find(
    (k) => k.startsWith('delete') || k === 'remove-source-files',
  )
  const dest = opts.operands[opts.operands.length - 1]
  if (!dest || opts.operands.length < 2) return
  const remoteDest =
    /^([^/:@]+@)?[^/:]+:(?!\/\/)/.test(dest.value) || dest.value.startsWith('rsync://')
  const secret = opts.operands
    .slice(0, -1)
    .find((o) => SECRET_PATH.test(o.value) || /^(~|\/|\/root|\/home\/[^/]+)\/?$/.test(o.value))
  if (remoteDest && secret) return emitSecretLeaves(c, secret, 'Copies', 'another machine')
  const info = remoteDest ? classifyPath(dest.value.replace(/^[^/:]+:(?!\/\/)/, '')) : c.path(dest)
  if (del) {
    const critical =
      ['root', 'system-top', 'home', 'homes'].includes(info.kind) &&
      !/:/.test(dest.value.split('/')[0] ?? '')
    c.emit(
      'fs.rsync.delete',
      critical ? 'critical' : 'high',
      `Deletes files in ${dest.value} that are not in the source (--${del})`,
      dest,
      { prod: true },
    )
  } else if (['root', 'system-top', 'system'].includes(info.kind) && !remoteDest) {
    c.emit('fs.rsync.system', 'high', `Overwrites files in the system location ${info.path}`, dest)
  } else {
    c.emit('fs.rsync', 'moderate', `Copies files into ${dest.value} (may overwrite)`, dest, {
      prod: true,
    })
  }
}

const ln: Rule = (c) => {
  const opts = c.opts({ shortWithValue: 'tS' })
  const dest = opts.operands[opts.operands.length - 1]
  if (!dest) return
  const info = c.path(dest)
  const force = hasFlag(opts, 'f', 'force')
  if (['system', 'system-top', 'root'].includes(info.kind))
    c.emit(
      'fs.ln.system',
      'high',
      `Creates or replaces the link ${info.path} in a system directory`,
      dest,
    )
  else c.emit('fs.ln', 'moderate', `${force ? 'Replaces' : 'Creates'} the link ${info.path}`, dest)
}

/** An archive unpacked into dir: it may overwrite what is there; high in a system location. */
function unpacksInto(c: CommandView, ruleBase: string, dir: string): void {
  const info = c.pathOf(dir)
  const system = ['root', 'system-top', 'system'].includes(info.kind)
  c.emit(
    system ? `${ruleBase}.system` : ruleBase,
    system ? 'high' : 'moderate',
    `Unpacks an archive into ${info.path} (may overwrite files)`,
    c.nameArg,
  )
}

/** unzip: -l/-v/-t/-z/-Z list or test and -p/-c print; anything else writes files (-d dir). */
const unzip: Rule = (c) => {
  const opts = c.opts({ shortWithValue: 'dP', longWithValue: [] })
  if (['l', 'v', 't', 'z', 'Z', 'p', 'c'].some((l) => opts.short.has(l))) return
  if (!opts.operands.length) return
  unpacksInto(c, 'fs.unzip.extract', opts.values.get('d') ?? '.')
}

/** 7z/7za/7zz: x and e unpack (into -o<dir>); a, u, d and rn rewrite the archive; l, t, h read. */
const sevenZip: Rule = (c) => {
  const words = c.args.map((a) => a.value)
  const sub = words.find((w) => !w.startsWith('-'))
  if (sub === 'x' || sub === 'e') {
    const out = words.find((w) => w.startsWith('-o') && w.length > 2)
    unpacksInto(c, 'fs.7z.extract', out ? out.slice(2) : '.')
    return
  }
  const archive = words.filter((w) => !w.startsWith('-'))[1]
  if (['a', 'u', 'd', 'rn'].includes(sub ?? '') && archive)
    c.emit('fs.7z.write', 'moderate', `Writes the archive ${c.pathOf(archive).path}`, c.nameArg)
}

/** tar: listing reads; creating writes the archive; extracting writes files where it unpacks. */
const tar: Rule = (c) => {
  const first = c.args[0]?.value ?? ''
  const letters = first.startsWith('-') ? first.slice(1) : /^[a-zA-Z]+$/.test(first) ? first : ''
  const opts = c.opts({
    shortWithValue: 'fCTXbIKLNV',
    longWithValue: ['file', 'directory', 'exclude', 'transform'],
  })
  const has = (l: string, long: string) =>
    letters.includes(l) || opts.short.has(l) || opts.long.has(long)
  const file =
    opts.values.get('f') ??
    (typeof opts.long.get('file') === 'string' ? String(opts.long.get('file')) : undefined)
  if (has('t', 'list')) return
  if (has('x', 'extract') || has('x', 'get')) {
    const dir =
      opts.values.get('C') ??
      (typeof opts.long.get('directory') === 'string' ? String(opts.long.get('directory')) : '.')
    unpacksInto(c, 'fs.tar.extract', dir)
    return
  }
  if ((has('c', 'create') || has('r', 'append') || has('u', 'update')) && file && file !== '-')
    c.emit('fs.tar.create', 'moderate', `Writes the archive ${c.pathOf(file).path}`, c.nameArg)
}

export const fileRules: Record<string, Rule> = {
  tar,
  bsdtar: tar,
  gtar: tar,
  unzip,
  '7z': sevenZip,
  '7za': sevenZip,
  '7zz': sevenZip,
  rm,
  unlink: (c) => {
    for (const t of c.opts().operands)
      rateDelete(c, t, { recursive: false, verb: 'Deletes', ruleBase: 'fs.rm' })
  },
  rmdir: modifyFiles('fs.rmdir', 'Removes the empty directory'),
  rimraf,
  del: rimraf,
  trash: modifyFiles('fs.trash', 'Moves to the trash'),
  'trash-put': modifyFiles('fs.trash', 'Moves to the trash'),
  mv: moveOrCopy('mv'),
  cp: moveOrCopy('cp'),
  install: moveOrCopy('cp'),
  truncate: modifyFiles('fs.truncate', 'Truncates', {
    shortWithValue: 'sr',
    longWithValue: ['size', 'reference'],
  }),
  tee,
  sed: sedInPlace,
  gsed: sedInPlace,
  touch: modifyFiles('fs.touch', 'Creates or touches', { shortWithValue: 'dtr' }),
  mkdir: modifyFiles('fs.mkdir', 'Creates the directory', { shortWithValue: 'm' }),
  shred,
  srm: shred,
  chmod,
  chown: chown('chown'),
  chgrp: chown('chgrp'),
  chattr: modifyFiles('perm.chattr', 'Changes file attributes of'),
  setfacl: modifyFiles('perm.setfacl', 'Changes access control lists of', {
    shortWithValue: 'mMxX',
  }),
  find,
  rsync,
  ln,
}
