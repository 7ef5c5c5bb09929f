import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { analyzeCommand, initSafety } from './index'
import { loadCorpus } from './corpus'
import { RISK_ORDER, maxRisk } from './types'

beforeAll(async () => {
  await initSafety()
})

const corpus = loadCorpus().filter(
  (c) => (!c.shell || c.shell === 'bash') && c.category !== 'unparseable',
)
const critical = corpus
  .filter((c) => c.expect === 'critical' && !c.cmd.includes('\n'))
  .map((c) => c.cmd)
/** Commands that are one simple statement: safe to combine with list operators. */
const simple = corpus
  .filter((c) => !/[\n;&|#=`$<>(){}]/.test(c.cmd) && !/^(echo|printf|cat|ls)\b/.test(c.cmd))
  .map((c) => c.cmd)

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`
/** The first PREFIX_WRAPPERS entries put words in front of a simple command. */
const PREFIX_WRAPPERS = 12
const WRAPPERS: Array<(cmd: string) => string> = [
  (c) => `sudo ${c}`,
  (c) => `sudo -u root ${c}`,
  (c) => `doas ${c}`,
  (c) => `env ${c}`,
  (c) => `env -i FOO=1 ${c}`,
  (c) => `command ${c}`,
  (c) => `exec ${c}`,
  (c) => `nohup ${c}`,
  (c) => `nice -n 10 ${c}`,
  (c) => `timeout 30 ${c}`,
  (c) => `time ${c}`,
  (c) => `stdbuf -oL ${c}`,
  (c) => `bash -c ${quote(c)}`,
  (c) => `sh -c ${quote(c)}`,
  (c) => `zsh -c ${quote(c)}`,
  (c) => `eval ${quote(c)}`,
  (c) => `ssh host ${quote(c)}`,
  (c) => `su -c ${quote(c)}`,
  // Spaces matter: `((cmd))` would be bash arithmetic, not two nested subshells.
  (c) => `( ${c} )`,
  (c) => `{ ${c}; }`,
  (c) => `echo ${quote(c)} | sh`,
  (c) => `bash <<< ${quote(c)}`,
  (c) => `true && ${c}`,
  (c) => `false || ${c}`,
  (c) => `ls; ${c}`,
  (c) => `${c} 2>/dev/null`,
  (c) => `if true; then ${c}; fi`,
]

describe('properties', () => {
  it('wrapping a critical command in any chain of wrappers never lowers its rating', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...critical),
        fc.array(fc.integer({ min: 0, max: WRAPPERS.length - 1 }), { minLength: 1, maxLength: 3 }),
        (cmd, chain) => {
          let wrapped = cmd
          for (const i of chain) {
            // `sudo a; b` only runs a under sudo: prefix wrappers need one simple command.
            if (i < PREFIX_WRAPPERS && /[;&|\n(){}]|^[A-Za-z_]\w*=|^!/.test(wrapped)) return
            wrapped = WRAPPERS[i]!(wrapped)
          }
          expect(analyzeCommand(wrapped).risk, wrapped).toBe('critical')
        },
      ),
      { numRuns: 300 },
    )
  })

  it('a wrapper never lowers the rating of any command', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...simple),
        fc.integer({ min: 0, max: WRAPPERS.length - 1 }),
        (cmd, w) => {
          if (w < PREFIX_WRAPPERS && /^!/.test(cmd)) return
          const base = analyzeCommand(cmd).risk
          const wrapped = WRAPPERS[w]!(cmd)
          expect(
            RISK_ORDER[analyzeCommand(wrapped).risk],
            `${wrapped} vs ${cmd} (${base})`,
          ).toBeGreaterThanOrEqual(RISK_ORDER[base])
        },
      ),
      { numRuns: 300 },
    )
  })

  it('a list takes the highest risk of its parts', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...simple),
        fc.constantFrom(...simple),
        fc.constantFrom(';', '&&', '||', '\n'),
        (a, b, op) => {
          const expected = maxRisk(analyzeCommand(a).risk, analyzeCommand(b).risk)
          expect(analyzeCommand(`${a} ${op} ${b}`).risk, `${a} ${op} ${b}`).toBe(expected)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('quoting or escaping the program name never changes the rating', () => {
    const forms = [
      (n: string) => `"${n}"`,
      (n: string) => `'${n}'`,
      (n: string) => `\\${n}`,
      (n: string) => `${n[0]}''${n.slice(1)}`,
    ]
    fc.assert(
      fc.property(
        fc.constantFrom(...simple),
        fc.integer({ min: 0, max: forms.length - 1 }),
        (cmd, f) => {
          const [name, ...rest] = cmd.split(' ')
          if (
            !name ||
            !/^[a-z][a-z0-9-]+$/.test(name) ||
            /^(if|for|while|until|case|time|function|select)$/.test(name)
          )
            return
          const disguised = [forms[f]!(name), ...rest].join(' ')
          expect(analyzeCommand(disguised).risk, disguised).toBe(analyzeCommand(cmd).risk)
        },
      ),
      { numRuns: 200 },
    )
  })
})
