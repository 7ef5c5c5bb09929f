import { describe, expect, it } from 'vitest'
import { highlightShell } from './highlight'
import { partialStringField } from './partial-json'

describe('partialStringField', () => {
  it('reads a field while it is still being written, with escapes', () => {
    expect(partialStringField('{"command":"ls","expl', 'explanation')).toBeNull()
    expect(partialStringField('{"command":"ls","explanation":"Lists \\"all', 'explanation')).toBe(
      'Lists "all',
    )
    expect(partialStringField('{"explanation":"a\\nb\\u00e9"}', 'explanation')).toBe('a\nbé')
    expect(partialStringField('{"explanation":"done", "x": 1}', 'explanation')).toBe('done')
    expect(partialStringField('{"explanation":"ends with \\', 'explanation')).toBe('ends with ')
  })
})

describe('highlightShell', () => {
  it('labels commands, flags, strings, variables and operators and keeps every character', () => {
    const command = `find . -name "*.pdf" -size +10M | xargs -0 rm; echo $HOME # done`
    const tokens = highlightShell(command)
    expect(tokens.map((t) => t.text).join('')).toBe(command)
    const kinds = Object.fromEntries(
      tokens.filter((t) => t.kind !== 'space').map((t) => [t.text, t.kind]),
    )
    expect(kinds).toMatchObject({
      find: 'command',
      '-name': 'flag',
      '"*.pdf"': 'string',
      '|': 'operator',
      xargs: 'command',
      echo: 'command',
      $HOME: 'variable',
      '# done': 'comment',
    })
    for (const t of tokens) expect(command.slice(t.start, t.start + t.text.length)).toBe(t.text)
  })

  it('survives unterminated quotes and trailing backslashes', () => {
    for (const command of [`echo "unterminated`, `echo 'x`, 'echo \\', '&&', '']) {
      expect(
        highlightShell(command)
          .map((t) => t.text)
          .join(''),
      ).toBe(command)
    }
  })
})
