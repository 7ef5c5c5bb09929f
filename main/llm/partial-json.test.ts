import { describe, expect, it } from 'vitest'
import { completedCommand } from './partial-json'

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
