import { describe, expect, it } from 'vitest'
import { CommandTracker, unescapeCommandLine } from './command-tracker'
import { OscScanner } from './osc-scanner'

function setup(nonce = 'n0nce') {
  let clock = 1000
  const commands: unknown[] = []
  const cwds: string[] = []
  let prompts = 0
  const tracker = new CommandTracker(
    nonce,
    {
      onCommand: (c) => commands.push(c),
      onCwd: (c) => cwds.push(c),
      onPrompt: () => prompts++,
    },
    () => clock,
  )
  const scanner = new OscScanner((p) => tracker.handleOsc(p))
  return {
    tracker,
    scanner,
    commands,
    cwds,
    prompts: () => prompts,
    tick: (ms: number) => (clock += ms),
  }
}

describe('OscScanner + CommandTracker', () => {
  it('records a command with text, cwd, exit code and duration', () => {
    const t = setup()
    t.scanner.push('\x1b]7;file://host/home/me/my%20dir\x07\x1b]133;A\x07$ \x1b]133;B\x07')
    t.scanner.push('\x1b]633;E;ls -la \\x3b echo hi;n0nce\x07\x1b]133;C\x07output\r\n')
    t.tick(250)
    t.scanner.push('\x1b]133;D;2\x07')
    expect(t.cwds).toEqual(['/home/me/my dir'])
    expect(t.prompts()).toBe(1)
    expect(t.commands).toEqual([
      {
        command: 'ls -la ; echo hi',
        cwd: '/home/me/my dir',
        exitCode: 2,
        startedAt: 1000,
        finishedAt: 1250,
        durationMs: 250,
      },
    ])
  })

  it('reassembles sequences split across chunks at every position', () => {
    const stream = '\x1b]633;E;git status;n0nce\x1b\\\x1b]133;C\x07\x1b]133;D;0\x07'
    for (let cut = 1; cut < stream.length; cut++) {
      const t = setup()
      t.scanner.push(stream.slice(0, cut))
      t.scanner.push(stream.slice(cut))
      expect(t.commands, `cut at ${cut}`).toHaveLength(1)
    }
  })

  it('ignores command lines without the nonce, so program output cannot forge history', () => {
    const t = setup()
    t.scanner.push('\x1b]633;E;rm -rf /;guess\x07\x1b]133;C\x07\x1b]133;D;0\x07')
    expect(t.commands).toEqual([])
  })

  it('ignores a D without a C and empty command lines', () => {
    const t = setup()
    t.scanner.push('\x1b]133;D;0\x07\x1b]133;C\x07\x1b]133;D;0\x07')
    expect(t.commands).toEqual([])
  })

  it('drops oversized OSC payloads without growing memory', () => {
    const t = setup()
    t.scanner.push('\x1b]633;E;' + 'x'.repeat(100_000) + ';n0nce\x07')
    t.scanner.push('\x1b]133;C\x07\x1b]133;D;1\x07')
    expect(t.commands).toEqual([])
  })

  it('unescapes backslashes and hex escapes', () => {
    expect(unescapeCommandLine('a\\\\b\\x0ac\\x3bd')).toBe('a\\b\nc;d')
  })
})
