import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { analyzeCommand, initSafety } from './index'
import { loadCorpus } from './corpus'
import { RISK_ORDER, maxRisk } from './types'

beforeAll(async () => {
  await initSafety()
})

const corpus = loadCorpus().filter(
  (c) => (!c.shell || c.shell === 'bash') && c.category !== 'unparseable' && !c.platform,
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

const hex = (s: string) =>
  [...Buffer.from(s)].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('')
const b64 = (s: string) => Buffer.from(s).toString('base64')
const rot13 = (s: string) =>
  s.replace(/[a-z]/gi, (c) => {
    const base = c <= 'Z' ? 65 : 97
    return String.fromCharCode(((c.charCodeAt(0) - base + 13) % 26) + base)
  })
/** Ways to hide a command: each decodes statically back to it. */
const ENCODINGS: Array<(cmd: string) => string> = [
  (c) => `echo ${b64(c)} | base64 -d | sh`,
  (c) => `echo '${b64(c)}' | base64 --decode | bash`,
  (c) => `base64 -d <<< ${b64(c)} | bash`,
  (c) => `bash -c "$(echo ${b64(c)} | base64 -d)"`,
  (c) => `eval "$(base64 -d <<< '${b64(c)}')"`,
  (c) => `printf '${hex(c)}' | sh`,
  (c) => `echo -e '${hex(c)}' | bash`,
  (c) => `bash -c $'${hex(c)}'`,
  (c) => `echo $'${hex([...c].reverse().join(''))}' | rev | sh`,
  (c) => `echo $'${hex(rot13(c))}' | tr 'A-Za-z' 'N-ZA-Mn-za-m' | sh`,
  (c) => `echo ${Buffer.from(c).toString('hex')} | xxd -r -p | sh`,
  (c) => `sh <(echo ${b64(c)} | base64 -d)`,
  (c) => `python3 -c "import os,base64; os.system(base64.b64decode('${b64(c)}'))"`,
]
const single = corpus.filter((c) => !c.cmd.includes('\n')).map((c) => c.cmd)

describe('decoded payloads', () => {
  it('a decoded payload is never rated below what it decodes to', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...single),
        fc.integer({ min: 0, max: ENCODINGS.length - 1 }),
        (cmd, e) => {
          const encoded = ENCODINGS[e]!(cmd)
          const plain = analyzeCommand(cmd).risk
          expect(
            RISK_ORDER[analyzeCommand(encoded).risk],
            `${encoded} (decodes to ${cmd}, ${plain})`,
          ).toBeGreaterThanOrEqual(RISK_ORDER[plain])
        },
      ),
      { numRuns: 400 },
    )
  })

  it('every critical command stays critical under every encoding', () => {
    for (const cmd of critical.filter((c) => !c.includes('\n')).slice(0, 60))
      for (const encode of ENCODINGS)
        expect(analyzeCommand(encode(cmd)).risk, encode(cmd)).toBe('critical')
  })
})
