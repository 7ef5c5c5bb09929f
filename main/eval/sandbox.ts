import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  chmodSync,
  closeSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { SeedFile } from './suite-schema'

/**
 * Runs a command in a throwaway directory, for eval checks that compare what a command does.
 *
 * What it isolates, honestly: the command runs with a fresh temporary directory (0700) as its
 * working directory and HOME (TMPDIR beside it), a minimal environment (no variables of the user's shell, so no
 * tokens or SSH agent), stdin closed, a wall-clock timeout after which its whole process group is
 * killed, CPU-time and file-size limits (ulimit), and a cap on the output kept. On Linux, where
 * unprivileged user namespaces work, it also runs in its own network namespace (no network at
 * all). It is NOT a container: the command runs as the user and can read, and write, anything the
 * user can through an absolute path. So the harness only runs answers the safety engine rates
 * safe or moderate that name no absolute path outside the sandbox (see checks.ts), and the
 * directory is removed afterwards.
 */

export interface SandboxOptions {
  files: Record<string, SeedFile>
  setup?: readonly string[]
  timeoutMs?: number
  /** Bytes of stdout (and of stderr) kept; the command is killed when it writes more. */
  maxOutputBytes?: number
  /** Run a probe command after the command, in the same directory (e.g. list an archive). */
  probe?: string
}

export interface SandboxRun {
  stdout: string
  stderr: string
  exitCode: number | null
  timedOut: boolean
  /** The output went over the cap and the command was killed. */
  truncated: boolean
  /** Every path under the directory afterwards: content hash and mode, 'dir', or 'link:<target>'. */
  tree: Record<string, string>
  probe: string | null
  /** What isolation applied: 'netns' (own network namespace) or 'none'. */
  isolation: 'netns' | 'none'
  setupError: string | null
}

const MAX_TREE_ENTRIES = 2000
const MAX_HASHED_BYTES = 4 * 2 ** 20

let netnsWorks: boolean | null = null

/** Whether `unshare -rn` works here (Linux with unprivileged user namespaces). */
export function networkIsolationAvailable(): boolean {
  if (netnsWorks === null) {
    if (process.platform !== 'linux') netnsWorks = false
    else {
      const probe = spawnSync('unshare', ['-rn', 'true'], { stdio: 'ignore', timeout: 5000 })
      netnsWorks = probe.status === 0
    }
  }
  return netnsWorks
}

const AGE_UNITS = { s: 1, m: 60, h: 3600, d: 86400 } as const

function seed(work: string, files: Record<string, SeedFile>): void {
  // A fixed clock: seeded files are 1 minute old unless they say otherwise.
  const now = Date.now() / 1000
  for (const [path, spec] of Object.entries(files)) {
    const target = join(work, path)
    if (path.endsWith('/')) {
      mkdirSync(target, { recursive: true, mode: 0o700 })
      continue
    }
    mkdirSync(dirname(target), { recursive: true, mode: 0o700 })
    const file = typeof spec === 'string' ? { text: spec } : spec
    if (file.size !== undefined) {
      const fd = openSync(target, 'w', 0o600)
      try {
        ftruncateSync(fd, file.size)
      } finally {
        closeSync(fd)
      }
    } else writeFileSync(target, file.text ?? '', { mode: 0o600 })
    if (file.mode) chmodSync(target, parseInt(file.mode, 8))
    const age = file.age ? Number(file.age.slice(0, -1)) * AGE_UNITS[file.age.at(-1) as 's'] : 60
    utimesSync(target, now - age, now - age)
  }
}

function sandboxEnv(root: string): NodeJS.ProcessEnv {
  return {
    PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
    // HOME is the working directory: `~/Downloads` and `./Downloads` are the same seeded folder.
    HOME: join(root, 'work'),
    TMPDIR: join(root, 'tmp'),
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    TZ: 'UTC',
    TERM: 'dumb',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'cmdai eval',
    GIT_AUTHOR_EMAIL: 'eval@cmdai.invalid',
    GIT_COMMITTER_NAME: 'cmdai eval',
    GIT_COMMITTER_EMAIL: 'eval@cmdai.invalid',
    GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z',
    GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z',
  }
}

interface Exec {
  stdout: string
  stderr: string
  exitCode: number | null
  timedOut: boolean
  truncated: boolean
}

/** ulimit: 10 s of CPU, files up to 256 MiB; then the command, as one bash -c script. */
const LIMITS = 'ulimit -t 10 -f 262144 2>/dev/null;'

function exec(
  command: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  maxBytes: number,
  netns: boolean,
): Promise<Exec> {
  // The command is bash's $1, never spliced into the script text.
  const args = ['--noprofile', '--norc', '-c', `${LIMITS} eval "$1"`, 'cmdai-eval', command]
  const [file, argv] = netns ? ['unshare', ['-rn', 'bash', ...args]] : ['bash', args]
  return new Promise((resolve) => {
    const child = spawn(file, argv as string[], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    let outBytes = 0
    let errBytes = 0
    let truncated = false
    let timedOut = false
    const kill = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL')
      } catch {
        // Already gone.
      }
    }
    const timer = setTimeout(() => {
      timedOut = true
      kill()
    }, timeoutMs)
    const collect = (chunks: Buffer[], isOut: boolean) => (chunk: Buffer) => {
      const used = isOut ? outBytes : errBytes
      const room = maxBytes - used
      if (room > 0) chunks.push(chunk.subarray(0, room))
      if (isOut) outBytes += chunk.length
      else errBytes += chunk.length
      if (chunk.length > room) {
        truncated = true
        kill()
      }
    }
    child.stdout.on('data', collect(out, true))
    child.stderr.on('data', collect(err, false))
    child.on('error', (e) => {
      clearTimeout(timer)
      resolve({
        stdout: '',
        stderr: e.message,
        exitCode: null,
        timedOut: false,
        truncated: false,
      })
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      // Whatever it left running in its group goes too.
      kill()
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        exitCode: code,
        timedOut,
        truncated,
      })
    })
  })
}

/** Every path under `dir` with a hash of its content (bounded; never follows links). */
export function snapshotTree(dir: string): Record<string, string> {
  const tree: Record<string, string> = {}
  let entries = 0
  const walk = (rel: string) => {
    let names: string[]
    try {
      names = readdirSync(join(dir, rel)).sort()
    } catch {
      return
    }
    for (const name of names) {
      if (++entries > MAX_TREE_ENTRIES) return
      const path = rel ? `${rel}/${name}` : name
      const full = join(dir, path)
      let st
      try {
        st = lstatSync(full)
      } catch {
        continue
      }
      if (st.isSymbolicLink()) tree[path] = `link:${readlinkSync(full)}`
      else if (st.isDirectory()) {
        tree[path] = 'dir'
        walk(path)
      } else if (st.isFile()) {
        const content =
          st.size > MAX_HASHED_BYTES
            ? `size:${st.size}`
            : createHash('sha256').update(readFileSync(full)).digest('hex').slice(0, 16)
        tree[path] = `${content} ${(st.mode & 0o777).toString(8)}`
      } else tree[path] = 'special'
    }
  }
  walk('')
  return tree
}

/** Removes the sandbox even when the command took its own permissions away. */
function removeAll(root: string): void {
  const grant = (path: string) => {
    try {
      const st = lstatSync(path)
      if (st.isSymbolicLink()) return
      chmodSync(path, st.isDirectory() ? 0o700 : 0o600)
      if (st.isDirectory()) for (const name of readdirSync(path)) grant(join(path, name))
    } catch {
      // Best effort; rmSync below reports nothing either.
    }
  }
  grant(root)
  rmSync(root, { recursive: true, force: true })
}

/** Seeds a throwaway directory, runs `setup`, then `command`, then `probe`; removes it all. */
export async function runInSandbox(command: string, options: SandboxOptions): Promise<SandboxRun> {
  const root = mkdtempSync(join(tmpdir(), 'cmdai-eval-'))
  chmodSync(root, 0o700)
  const work = join(root, 'work')
  const timeoutMs = options.timeoutMs ?? 10_000
  const maxBytes = options.maxOutputBytes ?? 64 * 1024
  const netns = networkIsolationAvailable()
  try {
    for (const dir of [work, join(root, 'tmp')]) mkdirSync(dir, { mode: 0o700 })
    seed(work, options.files)
    const env = sandboxEnv(root)
    for (const step of options.setup ?? []) {
      const r = await exec(step, work, env, timeoutMs, maxBytes, netns)
      if (r.exitCode !== 0) {
        return {
          stdout: '',
          stderr: r.stderr,
          exitCode: null,
          timedOut: r.timedOut,
          truncated: false,
          tree: {},
          probe: null,
          isolation: netns ? 'netns' : 'none',
          setupError: `setup \`${step}\` failed (${r.exitCode}): ${r.stderr.slice(0, 200)}`,
        }
      }
    }
    const result = await exec(command, work, env, timeoutMs, maxBytes, netns)
    const probe = options.probe
      ? (await exec(options.probe, work, env, timeoutMs, maxBytes, netns)).stdout
      : null
    // `~/x` and `$PWD/x` print the sandbox's own path: written as `./x`, they compare with `x`.
    const relative = (text: string) => text.split(`${work}/`).join('./').split(work).join('.')
    return {
      ...result,
      stdout: relative(result.stdout),
      tree: snapshotTree(work),
      probe: probe === null ? null : relative(probe),
      isolation: netns ? 'netns' : 'none',
      setupError: null,
    }
  } finally {
    removeAll(root)
  }
}
