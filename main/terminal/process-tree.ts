import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

/**
 * Every shell runs as the leader of its own session (node-pty's forkpty calls setsid), so its
 * session id is its pid. Background jobs of an interactive shell get process groups of their own
 * (job control) but stay in that session, so "the shell and everything it started" is exactly the
 * set of processes whose session id is the shell's pid. Programs that deliberately left with
 * setsid (daemons, a tmux server) are outside it, as they are for any terminal.
 */
export interface SessionMember {
  pid: number
  pgid: number
  /** Single-letter state from /proc (R, S, T, Z...); `?` where the platform does not say. */
  state: string
}

/** The live members of a session (zombies excluded: they are already dead). */
export function sessionMembers(sid: number): SessionMember[] {
  if (!Number.isInteger(sid) || sid <= 1) return []
  const members = process.platform === 'linux' ? fromProc(sid) : fromPgrep(sid)
  return members.filter((m) => m.state !== 'Z' && m.state !== 'X')
}

function fromProc(sid: number): SessionMember[] {
  const found: SessionMember[] = []
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return fromPgrep(sid)
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    let stat: string
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'latin1')
    } catch {
      continue // exited while we looked
    }
    // "pid (comm) state ppid pgrp session ..."; comm may hold spaces and parentheses.
    const close = stat.lastIndexOf(')')
    const fields = stat.slice(close + 2).split(' ')
    const state = fields[0] ?? '?'
    const pgid = Number(fields[2])
    const session = Number(fields[3])
    if (session === sid) found.push({ pid: Number(entry), pgid, state })
  }
  return found
}

function fromPgrep(sid: number): SessionMember[] {
  try {
    const out = execFileSync('pgrep', ['-s', String(sid)], { encoding: 'utf8', timeout: 2000 })
    return out
      .split('\n')
      .filter((line) => /^\d+$/.test(line.trim()))
      .map((line) => ({ pid: Number(line.trim()), pgid: 0, state: '?' }))
  } catch {
    return [] // pgrep exits 1 when nothing matches
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig)
  } catch {
    // Gone already, or not ours to signal.
  }
}

export interface EndSessionOptions {
  /** How long members get to exit after SIGHUP before SIGKILL. */
  graceMs?: number
  pollMs?: number
}

/**
 * Ends a shell's session the way closing a terminal should: SIGHUP (and SIGCONT, so stopped jobs
 * can act on it) to every member and process group, then SIGKILL to whatever is still there after
 * the grace period. Members that appear meanwhile (a loop that keeps forking) are signalled too.
 * Resolves with the pids that had to be killed.
 */
export async function endSession(sid: number, options: EndSessionOptions = {}): Promise<number[]> {
  const graceMs = options.graceMs ?? 1500
  const pollMs = options.pollMs ?? 50
  const hungUp = new Set<number>()
  const hangUp = (members: SessionMember[]) => {
    for (const m of members) {
      if (hungUp.has(m.pid)) continue
      hungUp.add(m.pid)
      if (m.pgid > 1 && m.pgid !== process.pid) signal(-m.pgid, 'SIGHUP')
      signal(m.pid, 'SIGHUP')
      signal(m.pid, 'SIGCONT')
    }
  }
  // Only members are signalled, never a bare pid: the leader is one while it lives.
  hangUp(sessionMembers(sid))
  const deadline = Date.now() + graceMs
  while (Date.now() < deadline) {
    const members = sessionMembers(sid)
    if (members.length === 0) return []
    hangUp(members)
    await new Promise((r) => setTimeout(r, pollMs))
  }
  const killed = new Set<number>()
  // A few rounds: a member may fork between listing and killing.
  for (let round = 0; round < 5; round++) {
    const members = sessionMembers(sid)
    if (members.length === 0) break
    for (const m of members) {
      killed.add(m.pid)
      signal(m.pid, 'SIGKILL')
    }
    await new Promise((r) => setTimeout(r, pollMs))
  }
  return [...killed]
}
