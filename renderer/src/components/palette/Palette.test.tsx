// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { GenerateResult, SafetyLevel, Verdict } from '../../../../contract'
import { createFakeApi, type FakeApi } from '../models/fake-api'
import { Palette } from './Palette'
import { SuggestionCard } from './SuggestionCard'

afterEach(cleanup)

/** A stand-in for the safety engine's answers (the real engine is tested in main/safety). */
function verdictFor(command: string, level: SafetyLevel = 'moderate'): Verdict {
  if (command.startsWith('mkdir')) {
    return {
      command,
      shell: 'bash',
      risk: 'moderate',
      action: level === 'strict' ? 'confirm' : 'allow',
      reasons: [
        {
          ruleId: 'fs.write',
          risk: 'moderate',
          message: 'Creates files or folders.',
          span: { start: 0, end: 5 },
        },
      ],
      policy: { level, source: 'level' },
    }
  }
  if (/rm -rf \/$/.test(command.trim())) {
    return {
      command,
      shell: 'bash',
      risk: 'critical',
      action: 'block',
      reasons: [
        {
          ruleId: 'fs.rm.root',
          risk: 'critical',
          message: 'Deletes everything on the root filesystem.',
          span: { start: command.indexOf('rm'), end: command.length },
        },
      ],
      policy: { level: 'moderate', source: 'level' },
    }
  }
  if (command.includes('git push --force')) {
    return {
      command,
      shell: 'bash',
      risk: 'high',
      action: 'confirm',
      reasons: [
        {
          ruleId: 'git.push.force',
          risk: 'high',
          message: 'Overwrites the remote branch history.',
          span: { start: 0, end: command.length },
        },
      ],
      policy: { level: 'moderate', source: 'level' },
    }
  }
  return {
    command,
    shell: 'bash',
    risk: 'safe',
    action: 'allow',
    reasons: [],
    policy: { level: 'moderate', source: 'level' },
  }
}

function setup(generated = 'ls -la', level: SafetyLevel = 'moderate') {
  let resolveGenerate!: (r: GenerateResult) => void
  const fake: FakeApi = createFakeApi({
    'safety:check': ({ command }) => verdictFor(command, level),
    'history:search': () => ({ mode: 'fuzzy', hits: [], tookMs: 1 }),
    'llm:generate': ({ requestId }) => {
      // Stream the command first, then the explanation, as the engine does.
      setTimeout(() => {
        fake.emit('llm:token', { requestId, text: `{"command":${JSON.stringify(generated)},` })
        fake.emit('llm:command', { requestId, command: generated, verdict: verdictFor(generated) })
        fake.emit('llm:token', { requestId, text: '"explanation":"Lists all fil' })
      }, 0)
      return new Promise<GenerateResult>((resolve) => {
        resolveGenerate = resolve
      })
    },
    'llm:cancel': () => ({ cancelled: true }),
    'history:recordAi': () => ({
      id: 7,
      createdAt: 0,
      request: '',
      contextSummary: null,
      model: null,
      backend: null,
      timings: null,
      proposedCommand: null,
      risk: null,
      reasons: null,
      decision: null,
      finalCommand: null,
      commandId: null,
    }),
    'history:updateAi': () => ({}) as never,
    'pty:write': () => null,
  })
  const finish = (explanation = 'Lists all files, including hidden ones.') =>
    resolveGenerate({
      requestId: 'x',
      command: generated,
      explanation,
      assumptions: ['You want hidden files too'],
      needsInput: null,
      verdict: verdictFor(generated),
      model: 'tiny.gguf',
      backend: 'local',
      timings: {
        loadMs: 0,
        contextMs: 1,
        firstTokenMs: 50,
        commandMs: 80,
        totalMs: 120,
        promptTokens: 10,
        outputTokens: 20,
      },
      redactions: 0,
    })
  const onClose = vi.fn()
  render(
    <Palette
      api={fake.api}
      target={{ ptyId: 't1', cwd: '/home/me/project', shell: '/bin/bash', gitBranch: 'main' }}
      safetyLevel={level}
      onClose={onClose}
    />,
  )
  return { fake, finish, onClose }
}

async function ask(text: string) {
  const input = screen.getByRole('textbox', { name: 'Describe the command you want' })
  fireEvent.change(input, { target: { value: text } })
  fireEvent.keyDown(input, { key: 'Enter' })
}

describe('Palette', () => {
  it('asks with the terminal context, shows the command as soon as it is validated, then the explanation', async () => {
    const { fake, finish } = setup()
    await ask('list all files')
    expect(fake.callsTo('llm:generate')[0]).toMatchObject({
      request: 'list all files',
      context: { cwd: '/home/me/project', shell: 'bash', gitBranch: 'main' },
    })
    const card = await screen.findByTestId('suggestion-card')
    await waitFor(() => expect(card.dataset.risk).toBe('safe'))
    expect(card.textContent).toContain('ls -la')
    expect(screen.getByTestId('card-explanation').textContent).toContain('Lists all fil')
    await act(async () => finish())
    await waitFor(() =>
      expect(screen.getByTestId('card-explanation').textContent).toBe(
        'Lists all files, including hidden ones.',
      ),
    )
    expect(card.textContent).toContain('You want hidden files too')
    await waitFor(() => expect(fake.callsTo('history:recordAi')).toHaveLength(1))
  })

  it('re-checks an edit on every keystroke and blocks a critical command', async () => {
    const { fake, finish } = setup()
    await ask('list all files')
    await screen.findByTestId('suggestion-card')
    await act(async () => finish())
    const dialog = screen.getByRole('dialog')
    fireEvent.keyDown(dialog.querySelector('.palette-body')!, { key: 'e' })
    const editor = screen.getByRole('textbox', { name: 'Edit the command' })
    const before = fake.callsTo('safety:check').length
    fireEvent.change(editor, { target: { value: 'sudo rm -rf /' } })
    await waitFor(() => expect(screen.getByTestId('suggestion-card').dataset.risk).toBe('critical'))
    expect(fake.callsTo('safety:check').length).toBeGreaterThan(before)
    expect(screen.getByTestId('card-blocked').textContent).toContain('Deletes everything')
    expect(screen.getByRole('button', { name: /^Run/ })).toHaveProperty('disabled', true)
    fireEvent.keyDown(editor, { key: 'Enter' })
    await waitFor(() =>
      expect(fake.callsTo('history:updateAi')).toEqual([
        { id: 7, decision: 'blocked', finalCommand: 'sudo rm -rf /', ptyId: 't1' },
      ]),
    )
    expect(fake.callsTo('pty:write')).toEqual([])
  })

  it('asks twice before a high-risk command and runs it in the terminal, showing the result', async () => {
    const { fake, finish } = setup('git push --force origin main')
    await ask('force push')
    await screen.findByTestId('suggestion-card')
    await act(async () => finish())
    const body = screen.getByRole('dialog').querySelector('.palette-body')!
    await waitFor(() =>
      expect(screen.getByTestId('suggestion-card').dataset.action).toBe('confirm'),
    )
    fireEvent.keyDown(body, { key: 'Enter' })
    expect(await screen.findByRole('alertdialog')).toHaveProperty(
      'textContent',
      expect.stringContaining('Overwrites the remote branch history'),
    )
    expect(fake.callsTo('pty:write')).toEqual([])
    fireEvent.keyDown(body, { key: 'Enter' })
    await waitFor(() =>
      expect(fake.callsTo('pty:write')).toEqual([
        { id: 't1', data: '\x15git push --force origin main\r' },
      ]),
    )
    act(() =>
      fake.emit('terminal:command', {
        ptyId: 't1',
        command: 'git push --force origin main',
        cwd: '/home/me/project',
        exitCode: 1,
        shell: '/bin/bash',
        startedAt: 1,
        finishedAt: 43,
        durationMs: 42,
      }),
    )
    expect((await screen.findByTestId('card-run')).textContent).toContain('exited with 1 in 42 ms')
    expect(fake.callsTo('history:updateAi')).toEqual([
      { id: 7, decision: 'ran', finalCommand: 'git push --force origin main', ptyId: 't1' },
    ])
  })

  it('says when the model is not there yet and closes with Escape', async () => {
    const fake: FakeApi = createFakeApi({
      'history:search': () => ({ mode: 'fuzzy', hits: [], tookMs: 1 }),
      'llm:generate': () =>
        Promise.reject(Object.assign(new Error('No model'), { code: 'unavailable' })),
      'llm:cancel': () => ({ cancelled: true }),
      'safety:check': ({ command }) => verdictFor(command),
    })
    const onClose = vi.fn()
    render(
      <Palette
        api={fake.api}
        target={{ ptyId: 't1' }}
        safetyLevel="moderate"
        modelNotice="No model yet — the model is on its way."
        onClose={onClose}
      />,
    )
    await ask('list files')
    // "Thinking…" first, then the notice once the request fails.
    await waitFor(() =>
      expect(screen.getByTestId('palette-status').textContent).toContain('model is on its way'),
    )
    fireEvent.keyDown(screen.getByRole('dialog'), { key: 'Escape' })
    expect(onClose).toHaveBeenCalled()
  })
})

/** The palette's keyboard surface (outside the inputs). */
const body = () => screen.getByRole('dialog').querySelector<HTMLElement>('.palette-body')!
const card = () => screen.getByTestId('suggestion-card')
const editor = () => screen.getByRole<HTMLTextAreaElement>('textbox', { name: 'Edit the command' })

async function answered(generated: string, level: SafetyLevel = 'moderate') {
  const palette = setup(generated, level)
  await ask('do it')
  await screen.findByTestId('suggestion-card')
  await act(async () => palette.finish())
  return palette
}

describe('the card shows what would run', () => {
  it('shows, copies and runs the edited text after the editor closes', async () => {
    const writeText = vi.fn(() => Promise.resolve())
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true })
    const { fake } = await answered('echo hello world')
    fireEvent.keyDown(body(), { key: 'e' })
    fireEvent.change(editor(), { target: { value: 'git push --force origin main' } })
    fireEvent.keyDown(editor(), { key: 'Escape' })
    expect(screen.queryByRole('textbox', { name: 'Edit the command' })).toBeNull()
    const shown = screen.getByTestId('card-command')
    expect(shown.textContent).toBe('git push --force origin main')
    expect(card().textContent).not.toContain('echo hello world')
    expect(screen.getByTestId('card-edited')).toBeTruthy()
    await waitFor(() => expect(card().dataset.risk).toBe('high'))
    fireEvent.keyDown(body(), { key: 'c' })
    await waitFor(() => expect(writeText).toHaveBeenCalledWith('git push --force origin main'))
    fireEvent.keyDown(body(), { key: 'Enter' })
    fireEvent.keyDown(body(), { key: 'Enter' })
    await waitFor(() =>
      expect(fake.callsTo('pty:write')).toEqual([
        { id: 't1', data: '\x15git push --force origin main\r' },
      ]),
    )
  })

  it('puts the caret at the end of the command when editing starts', async () => {
    await answered('ls -la')
    fireEvent.keyDown(body(), { key: 'e' })
    const el = editor()
    expect(document.activeElement).toBe(el)
    expect([el.selectionStart, el.selectionEnd]).toEqual([6, 6])
  })

  it('drops the run result once the command is edited', async () => {
    const { fake } = await answered('ls -la')
    fireEvent.keyDown(body(), { key: 'Enter' })
    await waitFor(() => expect(fake.callsTo('pty:write')).toHaveLength(1))
    act(() =>
      fake.emit('terminal:command', {
        ptyId: 't1',
        command: 'ls -la',
        cwd: '/home/me/project',
        exitCode: 0,
        shell: '/bin/bash',
        startedAt: 1,
        finishedAt: 8,
        durationMs: 7,
      }),
    )
    expect((await screen.findByTestId('card-run')).textContent).toContain('exited with 0')
    fireEvent.keyDown(body(), { key: 'e' })
    fireEvent.change(editor(), { target: { value: 'ls -la /tmp' } })
    expect(screen.queryByTestId('card-run')).toBeNull()
  })

  it('an empty proposal says so instead of "checking…", and an edit of it is what shows and runs', async () => {
    const { fake } = await answered('')
    expect(card().textContent).toContain('No command was proposed')
    expect(card().textContent).not.toContain('checking')
    expect(card().textContent).toContain('nothing to check')
    expect(screen.getByRole('button', { name: /^Run/ })).toHaveProperty('disabled', true)
    fireEvent.keyDown(body(), { key: 'e' })
    fireEvent.change(editor(), { target: { value: 'echo hi' } })
    fireEvent.keyDown(editor(), { key: 'Escape' })
    expect(card().textContent).not.toContain('No command was proposed')
    expect(screen.getByTestId('card-command').textContent).toBe('echo hi')
    await waitFor(() => expect(card().dataset.risk).toBe('safe'))
    fireEvent.keyDown(body(), { key: 'Enter' })
    await waitFor(() =>
      expect(fake.callsTo('pty:write')).toEqual([{ id: 't1', data: '\x15echo hi\r' }]),
    )
  })

  it("names a moderate command's own risk when the strict level asks first", async () => {
    const { fake } = await answered('mkdir -p build', 'strict')
    await waitFor(() => expect(card().dataset.action).toBe('confirm'))
    fireEvent.keyDown(body(), { key: 'Enter' })
    const confirm = await screen.findByRole('alertdialog', {
      name: 'Confirm a moderate-risk command',
    })
    expect(confirm.textContent).not.toMatch(/high risk/i)
    expect(confirm.textContent).toContain('This is moderate risk')
    expect(confirm.textContent).toContain('Creates files or folders')
    expect(confirm.textContent).toContain('The strict safety level asks before moderate-risk')
    expect(fake.callsTo('pty:write')).toEqual([])
  })

  it('shows terminal control characters in the command as visible escapes', async () => {
    const sneaky = 'echo safe\x1b[2K\rrm -rf ~ \u202e'
    await answered(sneaky)
    const shown = screen.getByTestId('card-command')
    expect(shown.textContent).toBe('echo safe\\e[2K\\rrm -rf ~ \\u{202e}')
    expect([...shown.textContent!].filter((c) => c < ' ' || c === '\u202e')).toEqual([])
    expect([...shown.querySelectorAll('.ctl')].map((e) => e.textContent)).toEqual([
      '\\e',
      '\\r',
      '\\u{202e}',
    ])
    expect(shown.querySelector('code')!.getAttribute('aria-label')).not.toContain('\x1b')
  })
})

describe('SuggestionCard', () => {
  it('names the risk in words and marks the span of each reason', () => {
    const command = 'sudo rm -rf /'
    render(
      <SuggestionCard
        content={{ source: 'ai', command, explanation: 'Deletes everything.' }}
        command={command}
        verdict={verdictFor(command)}
        editing={false}
        confirming={false}
        run={null}
        copied={false}
        onEditText={vi.fn()}
        onRun={vi.fn()}
        onEdit={vi.fn()}
        onCopy={vi.fn()}
        onCancel={vi.fn()}
      />,
    )
    expect(screen.getAllByText('Critical').length).toBeGreaterThan(0)
    const marked = document.querySelectorAll('.risk-mark.risk-critical')
    expect([...marked].map((m) => m.textContent).join('')).toBe('rm -rf /')
    expect(screen.getByTestId('card-policy').textContent).toContain('Safety level: moderate')
  })
})
