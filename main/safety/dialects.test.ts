import { beforeAll, describe, expect, it } from 'vitest'
import type { ShellDialect } from '../../contract/safety'
import { analyzeCommand, initSafety } from './index'

beforeAll(async () => {
  await initSafety()
})

/**
 * Issue 14 point 7: zsh, fish and PowerShell syntax that harmless commands use every day parses
 * (no parse error, so no fail-closed rating), and is rated by what it does.
 */
const fish: string[] = [
  'set -l x (math 1 + 2)',
  'echo $x[1..2]',
  "string match -rq '^a' -- $x",
  'begin; echo a; end',
  'if set -q x; echo y; end',
  "switch $x; case 'a*'; echo a; end",
  'for i in (seq 3); echo $i; end',
  'function f --argument a; echo $a; end',
  'echo {a,b}',
  'echo $PATH[-1]',
  'ls 2>/dev/null',
  'ls &>log',
  'echo (echo a)(echo b)',
  'echo "$(echo hi)"',
  'echo $status',
  'not test -f x',
  'test -f x && echo y || echo n',
  'echo \\$HOME',
  "echo 'it\\'s'",
  'ls >? out.txt',
  'echo $argv[2..-1]',
  'set -e x',
  'read -l name',
  'emit my_event',
  'type -q fzf; or echo no',
]
const powershell: string[] = [
  '$x = @(1,2,3)',
  '$h = @{a=1; b=2}',
  '[int]$x = 5',
  '$x | ForEach-Object { $_ * 2 }',
  'if ($x -gt 1) { "big" } else { "small" }',
  'foreach ($f in Get-ChildItem) { $f.Name }',
  'try { Get-Item x } catch { Write-Error $_ }',
  'Get-Process | Where-Object { $_.CPU -gt 10 }',
  '"Hello $($env:USERNAME)"',
  "$a -replace 'x','y'",
  'Write-Host @"\nhere\n"@',
  '& "C:\\Program Files\\x.exe" /arg',
  "Get-Item -Path 'C:\\x' -ErrorAction Stop",
  '$null = Get-Item x',
  '[System.IO.Path]::GetTempPath()',
  'function f { param($x) $x }',
  'Get-ChildItem | Sort-Object Length -Descending | Select -First 3',
  "$env:PATH -split ';'",
  'cmd /c ver',
  '(Get-Date).AddDays(-1)',
  'Start-Sleep -Seconds 2',
  "Write-Output 'a''b'",
  '$x = Get-Content .\\f.txt -Raw',
  'Get-ChildItem -Path . -Filter *.log -Recurse | Select-Object FullName',
  'Invoke-RestMethod https://api.example.com/x | ConvertTo-Json',
  'Get-CimInstance Win32_OperatingSystem | Select Caption',
  '$PSStyle.Reset',
  "switch ($x) { 1 { 'one' } default { 'other' } }",
  '1..5 | % { $_ }',
  'Get-Help Get-Item -Full',
]
const zsh: string[] = [
  'setopt autocd',
  'echo ${(L)HOME}',
  'for i ({1..3}) echo $i',
  'if [[ -o interactive ]] { echo i }',
  'while (( i++ < 3 )) { echo $i }',
  'print -l ${(k)parameters[(I)PATH*]}',
  'local -A opts; zparseopts -D -E -A opts h',
  'echo ${PWD/#$HOME/~}',
  'ls -l *(mh-1)',
  'echo $((2**10))',
  'case $x in (a|b) echo ab;; esac',
  'repeat 3 { echo x }',
  'echo ${${(z)x}[1]}',
  'alias -g L="| less"; ls L',
  'echo *(#q.)',
  'zle -N my-widget',
  'echo ${(%):-%n@%m}',
  'ls ^(*.txt|*.md)',
  'typeset -gx FOO=bar',
]

describe('dialect syntax', () => {
  const cases: Array<[ShellDialect, string]> = [
    ...fish.filter((c) => !/&>|>\?/.test(c)).map((c): [ShellDialect, string] => ['fish', c]),
    ...powershell
      .filter((c) => !c.startsWith('&'))
      .map((c): [ShellDialect, string] => ['powershell', c]),
    ...zsh.map((c): [ShellDialect, string] => ['zsh', c]),
  ]
  it.each(cases)('%s: %s parses and is safe', (shell, cmd) => {
    const v = analyzeCommand(cmd, { shell, platform: 'windows' })
    expect(v.parseError).toBeUndefined()
    expect(v.risk).toBe('safe')
  })

  it('rates what zsh brace bodies and glob qualifiers run', () => {
    for (const cmd of [
      'if [[ -f x ]] { ls } else { rm -rf / }',
      'while (( 1 )) { rm -rf ~/* }',
      'if (( x > 1 )) { echo a } elif [[ -n $y ]] { rm -rf / }',
      "rm *(e:'rm -rf /':)",
      'for d (~ /) { rm -rf $d }',
    ])
      expect(analyzeCommand(cmd, { shell: 'zsh' }).risk, cmd).toBe('critical')
  })
})
