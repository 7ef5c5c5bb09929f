import { describe, expect, it } from 'vitest'
import { completedCommand, JsonEndDetector } from './partial-json'

describe('completedCommand', () => {
  it('is null until the command string closes', () => {
    expect(completedCommand('{ "command":"ls -l')).toBeNull()
    expect(completedCommand('{ "command":"echo \\"hi')).toBeNull()
    expect(completedCommand('{"command":"echo \\"hi\\" | grep \'x\' {}; ls","expl')).toBe(
      'echo "hi" | grep \'x\' {}; ls',
    )
  })
  it('decodes escapes', () => {
    expect(completedCommand('{\n  "command": "printf \\"a\\\\tb\\\\n\\"",')).toBe(
      'printf "a\\tb\\n"',
    )
    expect(completedCommand('{"command":"caf\\u00e9"')).toBe('café')
  })
})

describe('JsonEndDetector', () => {
  it('finds the end of the outer object, ignoring braces inside strings', () => {
    const d = new JsonEndDetector()
    expect(d.push('{"command":"awk \'{print $1}\' | sed \\"s/}/x/\\"",')).toBe(false)
    expect(d.push('"assumptions":["a]"],"needsInput":null')).toBe(false)
    expect(d.push(' }\n\n')).toBe(true)
  })
})
