import { createHash } from 'node:crypto'
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
  const tag = createHash('sha256').update(dataDir).digest('hex').slice(0, 16)
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
