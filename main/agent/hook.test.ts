import { execFile, spawnSync } from 'node:child_process'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { agentEventInputSchema } from '../../contract/agent'
import { decide, parsePayload } from './claude-hook'
import { spoolPath } from './spool'

const root = mkdtempSync(join(tmpdir(), 'cmdai-hook-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** A PreToolUse event as Claude Code sends it for its Bash tool. */
const payload = (command: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    session_id: 'abc123',
    transcript_path: '/home/u/.claude/projects/p/abc123.jsonl',
    cwd: '/home/u/project',
    permission_mode: 'default',
    hook_event_name: 'PreToolUse',
    tool_name: 'Bash',
    tool_input: { command, description: 'what it does', timeout: 120000 },
    tool_use_id: 'toolu_01ABC',
    ...extra,
  })

function hook(input: string, env: Record<string, string> = {}, dataDir = join(root, 'data')) {
  return new Promise<{ status: number | null; stdout: string; stderr: string; ms: number }>(
    (resolve) => {
      const started = Date.now()
      const child = execFile(
        process.execPath,
        ['bin/cmdai.mjs', 'hook', 'claude-code'],
        {
          encoding: 'utf8',
          timeout: 60_000,
          env: { ...process.env, CMDAI_DATA_DIR: dataDir, ...env },
        },
        (err, stdout, stderr) =>
          resolve({
            status: err ? ((err as { code?: number }).code ?? 1) : 0,
            stdout,
            stderr,
            ms: Date.now() - started,
          }),
      )
      // The hook stops reading past 1 MiB: the rest of a huge input meets a closed pipe.
      child.stdin!.on('error', () => undefined)
      child.stdin!.end(input)
    },
  )
}

const decision = (stdout: string) =>
  (
    JSON.parse(stdout) as {
      hookSpecificOutput: { permissionDecision: string; permissionDecisionReason: string }
    }
  ).hookSpecificOutput

describe('cmdai hook claude-code (PreToolUse protocol)', () => {
  it('answers allow, ask and deny for real payloads, and records each as an agent event', async () => {
    const dataDir = join(root, 'record')
    const allow = await hook(payload('git status --short'), {}, dataDir)
    expect(allow.status).toBe(0)
    expect(JSON.parse(allow.stdout)).toEqual({
      hookSpecificOutput: {
        hookEventName: 'PreToolUse',
        permissionDecision: 'allow',
        permissionDecisionReason: expect.stringMatching(/^cmdai: safe risk/),
      },
    })
    const ask = await hook(payload('rm -rf ./dist'), {}, dataDir)
    expect(decision(ask.stdout)).toMatchObject({
      permissionDecision: 'ask',
      permissionDecisionReason: expect.stringMatching(/high risk: Deletes dist/),
    })
    const deny = await hook(payload('sudo rm -rf --no-preserve-root /'), {}, dataDir)
    expect(decision(deny.stdout).permissionDecision).toBe('deny')
    expect(decision(deny.stdout).permissionDecisionReason).toMatch(/^cmdai blocks this/)

    const events = readFileSync(spoolPath(dataDir), 'utf8')
      .trim()
      .split('\n')
      .map((line) => agentEventInputSchema.parse(JSON.parse(line)))
    expect(
      events.map((e) => [e.command, e.decision, e.via, e.client.name, e.agentSession]),
    ).toEqual([
      ['git status --short', 'allowed', 'hook', 'claude-code', 'abc123'],
      ['rm -rf ./dist', 'asked', 'hook', 'claude-code', 'abc123'],
      ['sudo rm -rf --no-preserve-root /', 'blocked', 'hook', 'claude-code', 'abc123'],
    ])
    expect(events[0]!.cwd).toBe('/home/u/project')
    expect(statSync(spoolPath(dataDir)).mode & 0o777).toBe(0o600)
  }, 120_000)

  it('fails closed to ask, with the reason, on anything it cannot read', async () => {
    const cases: Array<[string, RegExp]> = [
      ['', /not JSON/],
      ['not json at all', /not JSON/],
      ['[1,2,3]', /not a JSON object/],
      [
        JSON.stringify({ tool_name: 'Bash', tool_input: { command: 'ls' } }),
        /expected a PreToolUse event/,
      ],
      [
        payload('ls', { hook_event_name: 'PostToolUse' }),
        /expected a PreToolUse event, got "PostToolUse"/,
      ],
      [payload('ls', { tool_name: null }), /no tool_name/],
      [payload(42), /no command/],
      [payload('   '), /no command/],
      [payload('x'.repeat(100_001)), /longer than 100,000/],
      [`${'['.repeat(100_000)}${']'.repeat(100_000)}`, /not a JSON object/],
      ['x'.repeat(2 * 1024 * 1024), /larger than 1 MiB/],
    ]
    for (const [input, reason] of cases) {
      const r = await hook(input)
      expect(r.status, input.slice(0, 40)).toBe(0)
      const d = decision(r.stdout)
      expect(d.permissionDecision, input.slice(0, 40)).toBe('ask')
      expect(d.permissionDecisionReason).toMatch(reason)
      expect(r.ms).toBeLessThan(30_000)
    }
  }, 300_000)

  it('judges hostile commands without being fooled or crashing', async () => {
    const nul = await hook(payload('ls\0; rm -rf /'))
    expect(['ask', 'deny']).toContain(decision(nul.stdout).permissionDecision)
    const escapes = await hook(payload('echo \x1b]0;pwned\x07 && rm -rf ~'))
    expect(decision(escapes.stdout).permissionDecision).toBe('deny')
    const nested = await hook(payload(`${'$('.repeat(500)}rm -rf /${')'.repeat(500)}`))
    expect(['ask', 'deny']).toContain(decision(nested.stdout).permissionDecision)
  }, 120_000)

  it('says nothing about other tools, and asks when the policy file is broken', async () => {
    const other = await hook(payload('ls', { tool_name: 'Write', tool_input: { file_path: '/x' } }))
    expect(other.status).toBe(0)
    expect(JSON.parse(other.stdout)).toEqual({})
    const broken = join(root, 'broken')
    mkdirSync(broken)
    writeFileSync(join(broken, 'policy.json'), '{"rules": [ oops')
    const r = await hook(payload('ls'), {}, broken)
    expect(decision(r.stdout)).toMatchObject({
      permissionDecision: 'ask',
      permissionDecisionReason: expect.stringMatching(
        /cmdai could not check this command .*policy/,
      ),
    })
  }, 60_000)

  it('the protocol functions map every policy action', () => {
    expect(parsePayload(payload('ls'))).toEqual({
      kind: 'command',
      command: 'ls',
      cwd: '/home/u/project',
      sessionId: 'abc123',
    })
    const verdict = { command: 'x', shell: 'bash' as const, risk: 'high' as const, reasons: [] }
    expect(decide({ ...verdict, action: 'allow' }).hookSpecificOutput.permissionDecision).toBe(
      'allow',
    )
    expect(decide({ ...verdict, action: 'confirm' }).hookSpecificOutput.permissionDecision).toBe(
      'ask',
    )
    expect(decide({ ...verdict, action: 'block' }).hookSpecificOutput.permissionDecision).toBe(
      'deny',
    )
    expect(
      decide({
        ...verdict,
        action: 'block',
        policy: { level: 'moderate', source: 'rule', ruleId: 'no-prod' },
      }).hookSpecificOutput.permissionDecisionReason,
    ).toMatch(/policy rule no-prod/)
  })
})

describe('cmdai hook install|uninstall claude-code', () => {
  const cli = (args: string[], env: Record<string, string>) =>
    spawnSync(process.execPath, ['bin/cmdai.mjs', 'hook', ...args], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, ...env },
    })

  it('merges into the user settings, keeping everything else, with a backup; uninstall restores', () => {
    const config = join(root, 'claude-home')
    mkdirSync(config)
    const file = join(config, 'settings.json')
    const original = {
      model: 'opus',
      permissions: { allow: ['Bash(npm test:*)'] },
      hooks: {
        PreToolUse: [
          { matcher: 'Write|Edit', hooks: [{ type: 'command', command: 'prettier --check' }] },
          { matcher: 'Bash', hooks: [{ type: 'command', command: '~/bin/audit-bash.sh' }] },
        ],
        PostToolUse: [{ matcher: '*', hooks: [{ type: 'command', command: 'log.sh' }] }],
      },
    }
    writeFileSync(file, JSON.stringify(original, null, 4))
    chmodSync(file, 0o640)
    const env = { CLAUDE_CONFIG_DIR: config, CMDAI_DATA_DIR: join(root, 'data dir') }
    const installed = cli(['install', 'claude-code', '--user'], env)
    expect(installed.status, installed.stderr).toBe(0)
    const after = JSON.parse(readFileSync(file, 'utf8'))
    expect(after.model).toBe('opus')
    expect(after.permissions).toEqual(original.permissions)
    expect(after.hooks.PostToolUse).toEqual(original.hooks.PostToolUse)
    expect(after.hooks.PreToolUse.slice(0, 2)).toEqual(original.hooks.PreToolUse)
    const ours = after.hooks.PreToolUse[2]
    expect(ours).toMatchObject({ matcher: 'Bash', hooks: [{ type: 'command', timeout: 10 }] })
    expect(ours.hooks[0].command).toMatch(/hook claude-code$/)
    expect(ours.hooks[0].command).toContain(`CMDAI_DATA_DIR='${join(root, 'data dir')}'`)
    expect(statSync(file).mode & 0o777).toBe(0o640)
    const backups = readdirSync(config).filter((n) => n.includes('cmdai-backup'))
    expect(backups).toHaveLength(1)
    expect(JSON.parse(readFileSync(join(config, backups[0]!), 'utf8'))).toEqual(original)

    // The installed command works as Claude Code runs it: through a shell, payload on stdin.
    const run = spawnSync('bash', ['-c', ours.hooks[0].command], {
      input: payload('rm -rf /'),
      encoding: 'utf8',
      timeout: 60_000,
    })
    expect(decision(run.stdout).permissionDecision).toBe('deny')

    // Installing again changes nothing; uninstalling gives back the original settings.
    expect(cli(['install', 'claude-code'], env).stdout).toMatch(/Already installed/)
    expect(readdirSync(config).filter((n) => n.includes('cmdai-backup'))).toHaveLength(1)
    const removed = cli(['uninstall', 'claude-code', '--user'], env)
    expect(removed.status, removed.stderr).toBe(0)
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(original)
    expect(cli(['uninstall', 'claude-code'], env).stdout).toMatch(/nothing changed/)
  }, 120_000)

  it('creates project settings (0600), follows a linked settings file, refuses a broken one untouched', () => {
    const project = join(root, 'project')
    mkdirSync(project)
    const r = cli(['install', 'claude-code', '--project', project], {})
    expect(r.status, r.stderr).toBe(0)
    const file = join(project, '.claude', 'settings.json')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(JSON.parse(readFileSync(file, 'utf8')).hooks.PreToolUse).toHaveLength(1)
    expect(cli(['uninstall', 'claude-code', '--project', project], {}).status).toBe(0)
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({})

    const local = cli(['install', 'claude-code', '--project', project, '--local'], {})
    expect(local.status, local.stderr).toBe(0)
    expect(existsSync(join(project, '.claude', 'settings.local.json'))).toBe(true)

    const dotfiles = join(root, 'dotfiles')
    mkdirSync(dotfiles)
    writeFileSync(join(dotfiles, 'claude.json'), '{"theme": "dark"}')
    const linked = join(root, 'linked')
    mkdirSync(linked)
    symlinkSync(join(dotfiles, 'claude.json'), join(linked, 'settings.json'))
    expect(cli(['install', 'claude-code'], { CLAUDE_CONFIG_DIR: linked }).status).toBe(0)
    expect(JSON.parse(readFileSync(join(dotfiles, 'claude.json'), 'utf8')).theme).toBe('dark')
    expect(statSync(join(linked, 'settings.json'), { bigint: false }).isFile()).toBe(true)

    const broken = join(root, 'broken-claude')
    mkdirSync(broken)
    for (const text of ['{"hooks": ', '[]', '{"hooks": []}', '{"hooks": {"PreToolUse": {}}}']) {
      writeFileSync(join(broken, 'settings.json'), text)
      const refused = cli(['install', 'claude-code'], { CLAUDE_CONFIG_DIR: broken })
      expect(refused.status, text).not.toBe(0)
      expect(refused.stderr).toMatch(/nothing was changed/)
      expect(readFileSync(join(broken, 'settings.json'), 'utf8')).toBe(text)
    }
    expect(readdirSync(broken)).toEqual(['settings.json'])
  }, 120_000)
})
