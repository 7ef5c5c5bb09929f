import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * Where the running app's control socket and its info file (pid and token, control.json) live.
 * The socket sits in the data dir; when that path is too long for a Unix socket address
 * (sun_path: 108 bytes on Linux, 104 on macOS) it moves to a private folder in the temp dir named
 * after the data dir, so the app and every CLI still agree on it. On Windows it is a named pipe.
 */
export interface ControlPaths {
  socket: string
  /** JSON with the pid, socket path and token; readable only by the user (0600). */
  info: string
  /** The private folder holding the socket when it is not the data dir (created 0700). */
  socketDir: string
}

/** Longest socket path used as is (macOS's limit minus the terminating NUL, with a margin). */
const MAX_SOCKET_PATH = 100

export function controlPaths(dataDir: string): ControlPaths {
  const info = join(dataDir, 'control.json')
  const tag = pathTag(dataDir)
  if (process.platform === 'win32') {
    return { socket: `\\\\.\\pipe\\cmdai-${tag}`, info, socketDir: dataDir }
  }
  const inDataDir = join(dataDir, 'control.sock')
  if (Buffer.byteLength(inDataDir) <= MAX_SOCKET_PATH) {
    return { socket: inDataDir, info, socketDir: dataDir }
  }
  const uid = process.getuid?.() ?? 'user'
  const socketDir = join(tmpdir(), `cmdai-${uid}`)
  return { socket: join(socketDir, `${tag}.sock`), info, socketDir }
}

/**
 * 16 hex digits naming a data dir (FNV-1a, two 32-bit lanes). Not a security measure: the
 * folder is private to the user; this only keeps two data dirs' sockets apart. node:crypto would
 * cost every `cmdai hook` start a few milliseconds for it.
 */
function pathTag(text: string): string {
  let a = 0x811c9dc5
  let b = 0x01000193 ^ 0x5bd1e995
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193) >>> 0
    b = Math.imul(b ^ c, 0x5bd1e995) >>> 0
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0')
}
