import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { resolveAppRoot } from '../config/paths'

const root = resolveAppRoot()
const bin = join(root, 'bin', 'cmdai.mjs')
const dataDir = mkdtempSync(join(tmpdir(), 'cmdai-safety-cli-'))

afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

function cmdai(args: string[], input?: string, data = dataDir) {
  return spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    input,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', CMDAI_DATA_DIR: data },
    timeout: 120_000,
  })
}

// Each test starts the CLI several times (a few seconds each on a busy 2-core machine).
describe('cmdai check (CLI)', { timeout: 180_000 }, () => {
  it('reads JSON lines on stdin and answers one verdict per line, in order', () => {
    const lines = [
      JSON.stringify({ command: 'rm -rf /', shell: 'bash' }),
      'this is not json',
      JSON.stringify({ cmd: 'ls -la' }),
      '',
      JSON.stringify({
        command: 'Remove-Item -Recurse -Force C:\\',
        shell: 'powershell',
        platform: 'windows',
      }),
      JSON.stringify({ command: 'git push --force', shell: 'zsh' }),
      JSON.stringify({ shell: 'bash' }),
      JSON.stringify({ command: 'rm -rf ~', shell: 'powershell', platform: 'linux' }),
      JSON.stringify({ command: 'ls', platform: 'plan9' }),
    ]
    const r = cmdai(['check', '--jsonl'], lines.join('\n') + '\n')
    expect(r.status).toBe(0)
    const out = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(out).toHaveLength(8)
    // One field name for the command, as in --json; `cmd` is still accepted on input.
    expect(out[0]).toMatchObject({ command: 'rm -rf /', risk: 'critical', action: 'block' })
    expect(out[0]).not.toHaveProperty('cmd')
    expect(out[1]).toMatchObject({ line: 2 })
    expect(out[1]!.error).toBeTypeOf('string')
    expect(out[2]).toMatchObject({ command: 'ls -la', risk: 'safe', action: 'allow', reasons: [] })
    expect(out[3]).toMatchObject({ risk: 'critical', shell: 'powershell' })
    expect(out[4]).toMatchObject({ risk: 'high', action: 'confirm' })
    expect(out[5]).toMatchObject({ line: 7 })
    expect(out[6]).toMatchObject({ risk: 'critical', action: 'block' })
    expect(out[7]).toMatchObject({ line: 9 })
  })

  it('exits with a status that reflects the action, distinct from usage errors', () => {
    expect(cmdai(['check', 'ls']).status).toBe(0)
    expect(cmdai(['check', 'rm -rf ./build']).status).toBe(3)
    const blocked = cmdai(['check', 'rm -rf ~'])
    expect(blocked.status).toBe(4)
    expect(blocked.stdout).toContain('CRITICAL')
    expect(blocked.stdout).toContain('^') // the span marker without colours
    expect(blocked.stdout).not.toContain('\x1b[')
    expect(cmdai(['check', '--level', 'nonsense', 'ls']).status).toBe(1)
    const json = cmdai(['check', '--json', 'sudo dd if=/dev/zero of=/dev/sda'])
    expect(JSON.parse(json.stdout)).toMatchObject({
      command: 'sudo dd if=/dev/zero of=/dev/sda',
      risk: 'critical',
      action: 'block',
    })
  })

  it('without a command prints its own help and exits 1; a missing --policy file is a usage error', () => {
    const bare = cmdai(['check'])
    expect(bare.status).toBe(1)
    expect(bare.stderr).toContain('Usage: cmdai check')
    expect(bare.stderr).toContain('--jsonl')
    expect(bare.stderr).not.toContain('Usage: cmdai [options]')
    const missing = join(dataDir, 'no-such-policy.json')
    const policy = cmdai(['check', '--policy', missing, 'ls'])
    expect(policy.status).toBe(1)
    expect(policy.stderr).toContain(`Cannot read policy ${missing}`)
    writeFileSync(join(dataDir, 'broken-policy.json'), '{"version": 1, "rules": [{}]}')
    const broken = cmdai(['check', '--policy', join(dataDir, 'broken-policy.json'), 'ls'])
    expect(broken.status).toBe(1)
    expect(broken.stderr).toContain('Invalid policy')
  })

  it("uses the app's safety level from settings.json unless --level says otherwise", () => {
    const data = join(dataDir, 'levels')
    mkdirSync(data)
    expect(cmdai(['check', 'git push --force'], undefined, data).status).toBe(3)
    writeFileSync(join(data, 'settings.json'), JSON.stringify({ safety: { level: 'permissive' } }))
    const permissive = cmdai(['check', '--json', 'git push --force'], undefined, data)
    expect(permissive.status).toBe(0)
    expect(JSON.parse(permissive.stdout).policy).toMatchObject({ level: 'permissive' })
    expect(cmdai(['check', '--level', 'strict', 'git status'], undefined, data).status).toBe(0)
    expect(cmdai(['check', '--level', 'strict', 'git commit -m x'], undefined, data).status).toBe(3)
    writeFileSync(join(data, 'settings.json'), JSON.stringify({ safety: { level: 'strict' } }))
    expect(cmdai(['check', 'git commit -m x'], undefined, data).status).toBe(3)
    // An unreadable settings file fails closed to the strict level, and says so.
    writeFileSync(join(data, 'settings.json'), '{not json')
    const corrupt = cmdai(['check', 'git commit -m x'], undefined, data)
    expect(corrupt.status).toBe(3)
    expect(corrupt.stderr).toContain('strict')
  })

  it('shows terminal escapes and invisible characters instead of echoing them', () => {
    const hostile = 'echo \x1b]0;pwned\x07\x1b[2J\x1b[8m; rm -rf ~ \u202e'
    const check = cmdai(['check', hostile])
    expect(check.status).toBe(4)
    for (const c of ['\x07', '\x1b', '\u202e']) expect(check.stdout).not.toContain(c)
    expect(check.stdout).toContain('\\e]0;pwned\\a\\e[2J\\e[8m')
    const explain = cmdai(['explain', '--no-llm', 'ls \x1b[8mhidden'])
    expect(explain.stdout).not.toContain('\x1b')
    expect(explain.stdout).toContain('\\e[8mhidden')
    const redact = cmdai(['redact', 'tok ghp_abcdefghijklmnopqrstuvwxyz0123456789 \x1b[2J'])
    expect(redact.stdout).toContain('[REDACTED:github-token] \\e[2J')
    expect(redact.stdout).not.toContain('\x1b')
  })

  it('explains a command structurally without a model', () => {
    const r = cmdai(['explain', '--json', "sudo find / -name '*.tmp' -delete | wc -l"])
    expect(r.status).toBe(0)
    const b = JSON.parse(r.stdout) as { parts: Array<{ program: string; via: string[] }> }
    expect(b.parts.map((p) => p.program)).toEqual(['find', 'wc'])
    expect(b.parts[0]!.via).toEqual(['sudo'])
  })
})
