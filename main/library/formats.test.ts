import { describe, expect, it } from 'vitest'
import { exportLibrary, parseLibraryFile, parseNavi, parsePet } from './formats'
import { suggestTemplate } from './suggest'

describe('library files', () => {
  it('round-trips YAML and JSON', () => {
    const p = {
      id: 'a1',
      title: 'Tail',
      description: 'd',
      command: 'tail -n {{n}} {{f}}',
      parameters: [{ name: 'n', description: '', default: '10' }],
      tags: ['files'],
      author: 'me',
      createdAt: 1,
      updatedAt: 1,
    }
    for (const format of ['yaml', 'json'] as const) {
      const back = parseLibraryFile(exportLibrary('personal', [p], format), format)
      expect(back.errors).toEqual([])
      expect(back.patterns).toEqual([
        {
          id: 'a1',
          title: 'Tail',
          description: 'd',
          command: p.command,
          parameters: p.parameters,
          tags: ['files'],
        },
      ])
    }
  })

  it('refuses hostile files quickly with a reason', () => {
    const t0 = performance.now()
    const laughs =
      `a: &a ["x","x","x","x","x","x","x","x","x"]\n` +
      Array.from(
        { length: 12 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`,
      ).join('\n')
    expect(parseLibraryFile(laughs, 'yaml').errors[0]).toMatch(/parse|patterns/)
    expect(parseLibraryFile('['.repeat(100_000), 'json').errors[0]).toMatch(/parse/)
    expect(parseLibraryFile('version: 99\npatterns: []', 'yaml').errors[0]).toMatch(/newer/)
    expect(
      parseLibraryFile(
        '{"patterns":[{"title":"x","command":"y","parameters":[{"name":"a"},{"name":"a"}]}]}',
        'json',
      ).errors[0],
    ).toMatch(/duplicate/)
    expect(parseLibraryFile('[[snippets]]\ncommand = 1', 'pet').errors[0]).toMatch(/snippets/)
    expect(performance.now() - t0).toBeLessThan(5_000)
  })

  it('reads navi cheat sheets: tags, titles, variables with their commands, continued lines', () => {
    const r = parseNavi(
      '% docker, ops\n; comment\n# Logs of a container\ndocker logs -f \\\n  <container-name>\n$ container-name: docker ps --format {{.Names}} --- --header-lines 1\n# plain\nuptime\n',
    )
    expect(r.errors).toEqual([])
    expect(r.patterns).toEqual([
      {
        title: 'Logs of a container',
        description: '',
        command: 'docker logs -f \n{{container_name}}',
        parameters: [
          {
            name: 'container_name',
            description: '',
            valuesFrom: { command: 'docker ps --format {{.Names}}' },
          },
        ],
        tags: ['docker', 'ops'],
      },
      {
        title: 'plain',
        description: '',
        command: 'uptime',
        parameters: [],
        tags: ['docker', 'ops'],
      },
    ])
  })

  it('reads pet snippets with defaults', () => {
    const r = parsePet(
      '[[snippets]]\ndescription = "grep"\ncommand = "grep -rn <word=TODO> <dir=.>"\ntag = ["search"]\n',
    )
    expect(r.patterns[0]).toMatchObject({
      title: 'grep',
      command: 'grep -rn {{word}} {{dir}}',
      parameters: [
        { name: 'word', default: 'TODO' },
        { name: 'dir', default: '.' },
      ],
      tags: ['search'],
    })
  })
})

describe('patterns from history', () => {
  it('makes what varies across similar commands a parameter, named after its option', () => {
    const s = suggestTemplate([
      'kubectl logs -n prod web-7f9 --tail 200',
      'kubectl logs -n staging api-12 --tail 200',
      'kubectl logs -n prod worker-1 --tail 200',
    ])
    expect(s.command).toBe('kubectl logs -n {{n}} {{value}} --tail {{tail}}')
    expect(s.parameters.map((p) => [p.name, p.default])).toEqual([
      ['n', 'prod'],
      ['value', 'web-7f9'],
      ['tail', '200'],
    ])
  })

  it('with one command, proposes paths, hosts and numbers', () => {
    const s = suggestTemplate(['scp ./build/app.tar.gz deploy@10.0.0.5:/srv/app'])
    expect(s.command).toBe('scp {{path}} {{host}}')
  })
})
