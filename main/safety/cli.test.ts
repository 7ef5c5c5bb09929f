import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { resolveAppRoot } from '../config/paths'

const root = resolveAppRoot()
const bin = join(root, 'bin', 'cmdai.mjs')

function cmdai(args: string[], input?: string) {
  return spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    input,
    encoding: 'utf8',
    env: {
      ...process.env,
      NO_COLOR: '1',
      CMDAI_DATA_DIR: join(root, 'node_modules', '.cache', 'cmdai-safety-test'),
    },
    timeout: 60_000,
  })
}

describe('cmdai check (CLI)', () => {
  it('reads JSON lines on stdin and answers one verdict per line, in order', () => {
    const lines = [
      JSON.stringify({ cmd: 'rm -rf /', shell: 'bash' }),
      'this is not json',
      JSON.stringify({ cmd: 'ls -la' }),
      '',
      JSON.stringify({ cmd: 'Remove-Item -Recurse -Force C:\\', shell: 'powershell' }),
      JSON.stringify({ cmd: 'git push --force', shell: 'zsh' }),
      JSON.stringify({ shell: 'bash' }),
    ]
    const r = cmdai(['check', '--jsonl'], lines.join('\n') + '\n')
    expect(r.status).toBe(0)
    const out = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(out).toHaveLength(6)
    expect(out[0]).toMatchObject({ cmd: 'rm -rf /', risk: 'critical', action: 'block' })
    expect(out[1]).toMatchObject({ line: 2 })
    expect(out[1]!.error).toBeTypeOf('string')
    expect(out[2]).toMatchObject({ cmd: 'ls -la', risk: 'safe', action: 'allow', reasons: [] })
    expect(out[3]).toMatchObject({ risk: 'critical', shell: 'powershell' })
    expect(out[4]).toMatchObject({ risk: 'high', action: 'confirm' })
    expect(out[5]).toMatchObject({ line: 7 })
    for (const v of out.filter((o) => 'risk' in o)) {
      expect(['safe', 'moderate', 'high', 'critical']).toContain(v.risk)
      expect(Array.isArray(v.reasons)).toBe(true)
    }
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
    expect(JSON.parse(json.stdout)).toMatchObject({ risk: 'critical', action: 'block' })
  })

  it('explains a command structurally without a model', () => {
    const r = cmdai(['explain', '--json', "sudo find / -name '*.tmp' -delete | wc -l"])
    expect(r.status).toBe(0)
    const b = JSON.parse(r.stdout) as { parts: Array<{ program: string; via: string[] }> }
    expect(b.parts.map((p) => p.program)).toEqual(['find', 'wc'])
    expect(b.parts[0]!.via).toEqual(['sudo'])
  })
})
