import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { EventName, Events, TerminalCommand } from '../../contract'
import { resolveAppRoot } from '../config/paths'
import { EventHub } from '../ipc/event-hub'
import { PtyService } from './pty-service'
import { resolveShell } from './shells'
import { waitFor } from '../testing/wait-for'

interface Recorded {
  event: EventName
  payload: unknown
}

let home: string
let work: string
let service: PtyService
let seen: Recorded[]

function output(id: string): string {
  return seen
    .filter((r) => r.event === 'pty:data' && (r.payload as Events['pty:data']).id === id)
    .map((r) => (r.payload as Events['pty:data']).data)
    .join('')
}

function commands(id: string): TerminalCommand[] {
  return seen
    .filter((r) => r.event === 'terminal:command')
    .map((r) => r.payload as TerminalCommand)
    .filter((c) => c.ptyId === id)
}

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'cmdai-pty-home-'))
  work = join(home, 'work dir')
  mkdirSync(work)
  // A user rc file that must still be loaded under our integration, and that sets a prompt.
  // pyenv-style hooks leave PROMPT_COMMAND with a trailing ';', which must keep working.
  writeFileSync(
    join(home, '.bashrc'),
    'export FROM_USER_RC=yes\nPS1="user-prompt\\$ "\nPROMPT_COMMAND="user_hook;${PROMPT_COMMAND-}"\nuser_hook() { HOOK_RAN=yes; }\n',
  )
})

afterAll(() => rmSync(home, { recursive: true, force: true }))

function newService(): PtyService {
  const events = new EventHub()
  seen = []
  events.subscribe((event, payload) => seen.push({ event, payload }))
  return new PtyService({
    events,
    resourcesDir: join(resolveAppRoot(), 'resources'),
    env: { PATH: process.env.PATH, HOME: home, LANG: 'C.UTF-8', SHELL: '/bin/bash' },
    login: false,
  })
}

afterEach(async () => service?.disposeAll())

const shells = ['bash', 'zsh', 'fish'] as const

describe.each(shells)('a real %s in a PTY with shell integration', (name) => {
  const shellPath = resolveShell(name, process.env)
  // zsh and fish are installed by .ci/run; a developer machine without them runs bash only.
  it.runIf(shellPath !== null)(
    'runs commands and reports text, exit code, cwd and duration',
    async () => {
      service = newService()
      const info = service.create({ cols: 100, rows: 30, cwd: work, shell: shellPath! }, 'test')
      expect(info.integration).toBe(name)
      await waitFor('first prompt', () => seen.some((r) => r.event === 'pty:prompt'))

      service.write(info.id, 'echo "hello from $0"\r')
      await waitFor('echo output', () => /hello from/.test(output(info.id)))
      service.write(info.id, 'sh -c "exit 3"\r')
      service.write(info.id, 'cd ..\r')
      const recorded = await waitFor('three commands', () => {
        const c = commands(info.id)
        return c.length >= 3 && c
      })
      expect(recorded[0]).toMatchObject({
        command: 'echo "hello from $0"',
        exitCode: 0,
        cwd: work,
        shell: shellPath,
      })
      expect(recorded[0]!.durationMs).toBeGreaterThanOrEqual(0)
      expect(recorded[0]!.finishedAt).toBeGreaterThanOrEqual(recorded[0]!.startedAt)
      expect(recorded[1]).toMatchObject({ command: 'sh -c "exit 3"', exitCode: 3, cwd: work })
      expect(recorded[2]).toMatchObject({ command: 'cd ..', exitCode: 0, cwd: work })
      await waitFor('cwd change', () => service.list()[0]?.cwd === home)
    },
  )
})

describe('PtyService with bash', () => {
  it('loads the user rc, records multi-line and quoted commands, resizes', async () => {
    service = newService()
    const info = service.create({ cols: 80, rows: 24, cwd: work, shell: 'bash' }, 'test')
    await waitFor('prompt', () => /user-prompt/.test(output(info.id)))
    service.write(info.id, 'echo "rc=$FROM_USER_RC"; printf "%s\\n" "a;b"\r')
    await waitFor('rc output', () => /rc=yes/.test(output(info.id)))
    expect(output(info.id)).not.toMatch(/syntax error/)
    service.resize(info.id, 120, 40)
    service.write(info.id, 'stty size\r')
    await waitFor('new size', () => /40 120/.test(output(info.id)))
    const cmds = await waitFor(
      'two commands',
      () => commands(info.id).length >= 2 && commands(info.id),
    )
    expect(cmds[0]!.command).toBe('echo "rc=$FROM_USER_RC"; printf "%s\\n" "a;b"')
    service.write(info.id, 'echo "hook=$HOOK_RAN"\r')
    await waitFor('user hook ran', () => /hook=yes/.test(output(info.id)))
    expect(cmds[1]!.command).toBe('stty size')
  })

  it('does not record an empty line, and ignores forged markers printed by a program', async () => {
    service = newService()
    const info = service.create({ cols: 80, rows: 24, cwd: work, shell: 'bash' }, 'test')
    await waitFor('prompt', () => seen.some((r) => r.event === 'pty:prompt'))
    service.write(info.id, '\r')
    service.write(info.id, "printf '\\033]633;E;rm -rf /;fake\\007'\r")
    const cmds = await waitFor(
      'one command',
      () => commands(info.id).length >= 1 && commands(info.id),
    )
    await new Promise((r) => setTimeout(r, 300))
    expect(commands(info.id).map((c) => c.command)).toEqual([cmds[0]!.command])
    expect(cmds[0]!.command).toContain('printf')
  })

  it('reports exit, restarts the shell under the same id in the last cwd, and kills', async () => {
    service = newService()
    const info = service.create({ cols: 80, rows: 24, cwd: work, shell: 'bash' }, 'test')
    await waitFor('prompt', () => seen.some((r) => r.event === 'pty:prompt'))
    service.write(info.id, 'exit 7\r')
    const exit = await waitFor('exit', () => seen.find((r) => r.event === 'pty:exit'))
    expect(exit.payload).toEqual({ id: info.id, exitCode: 7, signal: null, signalName: null })
    expect(() => service.write(info.id, 'ls\r')).toThrow(/exited/)

    const restarted = service.restart(info.id, 80, 24)
    expect(restarted.id).toBe(info.id)
    expect(restarted.pid).not.toBe(info.pid)
    expect(restarted.cwd).toBe(work)
    service.write(info.id, 'echo back-again\r')
    await waitFor('output after restart', () => /back-again/.test(output(info.id)))

    seen.length = 0
    service.kill(info.id)
    const killed = await waitFor('kill', () => seen.find((r) => r.event === 'pty:exit'))
    // A killed shell says which signal ended it, not a bare exit code 0.
    expect(killed.payload).toMatchObject({ id: info.id, signalName: 'SIGHUP' })
  })

  it('refuses a missing shell or directory with a clear error', () => {
    service = newService()
    expect(() =>
      service.create({ cols: 80, rows: 24, shell: '/nonexistent/shell' }, 'test'),
    ).toThrow(/Shell not found/)
    expect(() => service.create({ cols: 80, rows: 24, cwd: join(home, 'nope') }, 'test')).toThrow(
      /Not a directory/,
    )
    expect(() => service.write('t999', 'x')).toThrow(/No terminal/)
  })

  it('disposes only the terminals of a client that went away', async () => {
    service = newService()
    const a = service.create({ cols: 80, rows: 24, cwd: work, shell: 'bash' }, 'window-a')
    const b = service.create({ cols: 80, rows: 24, cwd: work, shell: 'bash' }, 'window-b')
    void service.disposeOwnedBy('window-a')
    expect(service.list().map((p) => p.id)).toEqual([b.id])
    expect(a.id).not.toBe(b.id)
  })
})
