import { spawnSync } from 'node:child_process'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ShellDialect } from '../../contract/safety'
import { fillTemplate, scanTemplate, templateForVerdict } from './template'

/**
 * The quoting property, checked by the real shells: a filled template, run by bash, zsh, sh
 * (dash) and fish, hands the external program (/usr/bin/printf) exactly the value, as exactly one
 * argument. PowerShell is not installed on these machines: its quoting is checked by unit cases
 * below and documented as unverified by a real pwsh.
 */

const SHELLS: Array<{ dialect: ShellDialect; argv: string[] }> = [
  { dialect: 'bash', argv: ['bash', '--norc', '-c'] },
  { dialect: 'zsh', argv: ['zsh', '-f', '-c'] },
  { dialect: 'sh', argv: ['dash', '-c'] },
  { dialect: 'fish', argv: ['fish', '--no-config', '-c'] },
]

/** Templates that put the value bare, glued to text, and inside the template's own quotes. */
const TEMPLATES = [
  `/usr/bin/printf 'A%s\\0' -- {{x}}`,
  `/usr/bin/printf 'A%s\\0' -- pre{{x}}post`,
  `/usr/bin/printf 'A%s\\0' -- "pre {{x}} post"`,
  `/usr/bin/printf 'A%s\\0' -- 'pre {{x}} post'`,
  `/usr/bin/printf 'A%s\\0' -- --opt={{x}}`,
]
const expected = (template: string, value: string): string =>
  template.endsWith('pre{{x}}post')
    ? `pre${value}post`
    : template.includes('pre {{x}} post')
      ? `pre ${value} post`
      : template.endsWith('--opt={{x}}')
        ? `--opt=${value}`
        : value

const HOSTILE = [
  'x; rm -rf ~',
  '$(touch /tmp/cmdai-pwned)',
  '`id`',
  "it's",
  '"double"',
  "''",
  '\\',
  '\\\\n',
  'a\nb',
  'tab\there',
  'esc\u001b[31mred',
  '\u0003\u0015\u0004',
  '\u001b[201~',
  '!!',
  '!$ !# !-1',
  '$HOME ${PATH} $((1+1))',
  '*',
  '~',
  '~root',
  '{a,b}',
  '=ls',
  '%1',
  '#comment',
  '-rf',
  '--output=/etc/passwd',
  ' leading and trailing ',
  '',
  'ünïcødé ✓ 日本語 🚀',
  '\u202etxt.exe',
  '\u00a0nbsp',
  'a\u2028b',
  '\u0085next',
  '\u007fdel',
  "$'ansi'",
  '"$(id)"',
  "'; echo pwned; '",
  '(subshell)',
  'a|b&c>d<e',
  'back\\slash\\',
]

function runShell(
  argv: string[],
  script: string,
): { stdout: Buffer; stderr: string; status: number | null } {
  const [cmd, ...args] = argv
  const r = spawnSync(cmd!, [...args, script], {
    timeout: 20_000,
    env: { PATH: '/usr/bin:/bin', HOME: '/nonexistent', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' },
  })
  return { stdout: r.stdout, stderr: r.stderr.toString(), status: r.status }
}

/** Runs many filled commands in one shell process; returns the arguments each one printed. */
function argumentsFromShell(shell: (typeof SHELLS)[number], commands: string[]): string[][] {
  const end = shell.dialect === 'fish' ? `/usr/bin/printf 'END\\0'` : `/usr/bin/printf 'END\\0'`
  const script = commands.map((c) => `${c}\n${end}`).join('\n')
  const r = runShell(shell.argv, script)
  expect(r.stderr, `${shell.dialect} stderr`).toBe('')
  const parts = r.stdout.toString('utf8').split('\0')
  const out: string[][] = []
  let current: string[] = []
  for (const part of parts) {
    if (part === 'END') {
      out.push(current)
      current = []
    } else if (part.startsWith('A')) current.push(part.slice(1))
  }
  return out
}

function check(shell: (typeof SHELLS)[number], values: string[]): void {
  const cases: Array<{ template: string; value: string; command: string }> = []
  for (const value of values) {
    for (const template of TEMPLATES) {
      const r = fillTemplate(template, [], { x: value }, shell.dialect)
      // eslint-disable-next-line no-control-regex
      if (shell.dialect === 'sh' && /[\u0000-\u001f\u007f]/.test(value)) {
        expect(
          r.command,
          `sh must refuse control characters in ${JSON.stringify(value)}`,
        ).toBeNull()
        continue
      }
      expect(r.errors, `${shell.dialect} ${template} ${JSON.stringify(value)}`).toEqual({})
      // eslint-disable-next-line no-control-regex
      expect(r.command).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/)
      expect(r.command).not.toContain('\n')
      cases.push({ template, value, command: r.command! })
    }
  }
  const got = argumentsFromShell(
    shell,
    cases.map((c) => c.command),
  )
  expect(got.length).toBe(cases.length)
  cases.forEach((c, i) => {
    // The first argument is the `--` that ends options.
    expect(got[i], `${shell.dialect}: ${c.command}`).toEqual(['--', expected(c.template, c.value)])
  })
}

describe('quoting in the real shells', () => {
  for (const shell of SHELLS) {
    it(`${shell.dialect}: hostile values arrive as one argument, unchanged`, () => {
      check(shell, HOSTILE)
    })

    it(`${shell.dialect}: arbitrary strings arrive as one argument, unchanged`, () => {
      // Many values per shell process: one sample of 100 strings per run, 2 runs.
      fc.assert(
        fc.property(
          fc.array(
            fc
              .oneof(
                fc.string({ unit: 'binary', maxLength: 30 }),
                fc.string({
                  unit: fc.constantFrom(...'\'"`$\\!;&|<>(){}[]*?~#=%^ \n\t\u001b-'),
                  maxLength: 20,
                }),
              )
              .filter(
                (s) =>
                  !s.includes('\u0000') &&
                  !/[\ud800-\udfff]/.test(s.replace(/[\ud800-\udbff][\udc00-\udfff]/g, '')),
              ),
            { minLength: 100, maxLength: 100 },
          ),
          (values) => check(shell, values),
        ),
        { numRuns: 2 },
      )
    }, 120_000)
  }
})

describe('fillTemplate', () => {
  it('refuses NUL, values outside the allowed list and missing values', () => {
    const params = [
      { name: 'env', description: '', allowed: ['dev', 'prod'] },
      { name: 'n', description: '' },
    ]
    const r = fillTemplate(
      'deploy {{env}} {{n}} {{other}}',
      params,
      { env: 'staging', other: 'a\u0000b' },
      'bash',
    )
    expect(r.command).toBeNull()
    expect(r.errors.env).toMatch(/one of: dev, prod/)
    expect(r.errors.n).toMatch(/needs a value/)
    expect(r.errors.other).toMatch(/NUL/)
  })

  it('refuses a leading dash where it would be an option, unless -- ends the options first', () => {
    for (const shell of ['bash', 'zsh', 'sh', 'fish', 'powershell'] as const) {
      expect(fillTemplate('git checkout {{b}}', [], { b: '--orphan=x' }, shell).errors.b).toMatch(
        /option/,
      )
      expect(fillTemplate('rm "{{f}}"', [], { f: '-rf' }, shell).errors.f).toMatch(/option/)
      expect(fillTemplate('git checkout -- {{b}}', [], { b: '-x' }, shell).command).not.toBeNull()
      // Glued to an option or to text, the dash is part of a value.
      expect(fillTemplate('tool --name={{b}}', [], { b: '-x' }, shell).command).not.toBeNull()
      // A listed value or the default is the author's choice.
      expect(
        fillTemplate('ls {{f}}', [{ name: 'f', description: '', default: '-la' }], {}, shell)
          .command,
      ).not.toBeNull()
    }
    // `--` only counts within the same simple command.
    expect(fillTemplate('echo -- a; rm {{f}}', [], { f: '-rf' }, 'bash').errors.f).toMatch(/option/)
    // PowerShell also reads typographic dashes as parameter dashes.
    expect(
      fillTemplate('Remove-Item {{p}}', [], { p: '\u2013Recurse' }, 'powershell').errors.p,
    ).toMatch(/option/)
  })

  it('refuses placeholders inside backticks', () => {
    expect(fillTemplate('echo `cat {{f}}`', [], { f: 'a' }, 'bash').errors.f).toMatch(/backticks/)
  })

  it('fills the same parameter everywhere it appears, and leaves plain values unquoted', () => {
    expect(
      fillTemplate('kubectl -n {{ns}} get pods -n {{ns}}', [], { ns: 'prod-1' }, 'bash').command,
    ).toBe('kubectl -n prod-1 get pods -n prod-1')
    expect(fillTemplate('echo {{x}}', [], { x: '=ls' }, 'zsh').command).toBe("echo '=ls'")
  })

  it('quotes for PowerShell without gluing anything to a quote', () => {
    const q = (template: string, x: string) =>
      fillTemplate(template, [], { x }, 'powershell').command
    expect(q('Write-Output {{x}}', 'x; rm -rf ~')).toBe('Write-Output x`;` rm` `-rf` `~')
    expect(q("Write-Output '{{x}}'", "it's ‘odd’")).toBe("Write-Output 'it''s ‘‘odd’’'")
    expect(q('Write-Output "{{x}}"', '$env:HOME `n "q" “smart”')).toBe(
      'Write-Output "`$env:HOME ``n `"q`" `“smart`”"',
    )
    expect(q('Write-Output "{{x}}"', 'a\nb\u0001')).toBe('Write-Output "a`nb`u{1}"')
    expect(q('Write-Output {{x}}', 'a,b')).toBe('Write-Output a`,b')
    expect(fillTemplate("Write-Output '{{x}}'", [], { x: 'a\nb' }, 'powershell').errors.x).toMatch(
      /control/,
    )
  })

  it('scans quoting contexts per dialect', () => {
    const ctx = (t: string, s: ShellDialect) => scanTemplate(t, s).map((p) => p.context)
    expect(ctx(`a {{x}} "b {{x}}" 'c {{x}}' $'d {{x}}'`, 'bash')).toEqual([
      'bare',
      'double',
      'single',
      'ansi',
    ])
    expect(ctx(`"$(echo {{x}})"`, 'bash')).toEqual(['bare'])
    expect(ctx(`'a\\'{{x}}'`, 'fish')).toEqual(['single'])
    expect(ctx(`'a''{{x}}' "b\`"{{x}}"`, 'powershell')).toEqual(['single', 'double'])
    expect(ctx(`"$(Get-Item {{x}})"`, 'powershell')).toEqual(['bare'])
  })

  it('shows parameters to the safety engine as unknown words', () => {
    expect(templateForVerdict('rm -rf {{dir}}/cache', 'bash')).toBe('rm -rf $dir/cache')
  })

  it('stays fast on a pathological template', () => {
    const t0 = performance.now()
    const template = '{{x}}'.repeat(5_000) + '"'.repeat(5_000) + "'$(".repeat(1_000)
    fillTemplate(template, [], { x: "a'b" }, 'bash')
    expect(performance.now() - t0).toBeLessThan(1_000)
  })
})
