import { normalise } from './paths'
import { DYN } from './types'

/**
 * The working directory as a line changes it: `cd`, `cd -`, `cd ~`, `pushd`/`popd`, scoped by
 * subshells. `null` stands for the directory the line started in (unknown to the engine); a
 * value is absolute (`/etc`), home-based (`~/x`), relative to that start (`build`), or holds
 * {@link DYN} when it depends on run time (`cd "$DIR"`).
 */
export interface CwdSnapshot {
  cwd: string | null
  old: string | null
  stack: Array<string | null>
  ifCdFailed: string | null | undefined
}

export class CwdTracker {
  cwd: string | null
  /**
   * Where the line still is if a `cd` into a relative or run-time directory failed (it may not
   * exist): `cd ~; cd build; rm -rf *` deletes in ~ then. Undefined when no such cd is pending.
   */
  ifCdFailed: string | null | undefined = undefined
  private old: string | null = null
  private stack: Array<string | null> = []

  constructor(start: string | null = null) {
    this.cwd = start
  }

  save(): CwdSnapshot {
    return { cwd: this.cwd, old: this.old, stack: [...this.stack], ifCdFailed: this.ifCdFailed }
  }

  restore(s: CwdSnapshot): void {
    this.cwd = s.cwd
    this.ifCdFailed = s.ifCdFailed
    this.old = s.old
    this.stack = s.stack
  }

  /**
   * Applies a directory-changing builtin, given its operands after quote removal. Returns false
   * when the name is not one (the caller then treats the command as usual).
   */
  apply(name: string, operands: string[]): boolean {
    const target = operands[0]
    switch (name) {
      case 'cd':
      case 'chdir':
      case 'set-location':
      case 'sl': {
        if (target === '-') return (this.go(this.old), true)
        const home = target === undefined || target === ''
        const before = this.cwd
        this.go(home ? '~' : this.resolve(target))
        // A directory named from here or at run time may be missing; `/x`, `~` and `..` exist.
        const sure =
          home || (isAnchored(target) && !target.includes(DYN)) || /^(\.\.?\/?)+$/.test(target)
        if (sure) this.ifCdFailed = undefined
        else this.ifCdFailed ??= before
        return true
      }
      case 'pushd':
      case 'push-location': {
        if (target === undefined) {
          const top = this.stack.pop()
          if (top !== undefined) {
            this.stack.push(this.cwd)
            this.go(top)
          }
          return true
        }
        this.stack.push(this.cwd)
        this.go(this.resolve(target))
        return true
      }
      case 'popd':
      case 'pop-location': {
        const top = this.stack.pop()
        if (top !== undefined) this.go(top)
        return true
      }
      case 'prevd':
        this.go(this.old)
        return true
      default:
        return false
    }
  }

  /** A path as seen from the current directory (relative paths joined onto it). */
  resolve(path: string): string {
    return resolveIn(this.cwd, path)
  }

  private go(next: string | null): void {
    this.old = this.cwd
    this.cwd = next
  }
}

/** Joins a relative path onto a working directory; absolute and home paths stay as they are. */
export function resolveIn(cwd: string | null, path: string): string {
  if (cwd === null || isAnchored(path)) return path
  // A run-time directory: keep the path dynamic without making it look like `$X/` (root).
  if (cwd.includes(DYN)) return `${DYN}/./${path}`
  return normalise(`${cwd}/${path}`)
}

function isAnchored(path: string): boolean {
  return (
    path.startsWith('/') ||
    path.startsWith('~') ||
    path.startsWith(DYN) ||
    /^[a-zA-Z]:([\\/]|$)/.test(path) ||
    /^\\\\/.test(path)
  )
}
