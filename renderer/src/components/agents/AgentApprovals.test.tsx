// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import type { AgentApproval, AgentEvent } from '../../../../contract'
import { AgentsView } from '../history/AgentsView'
import { createFakeApi } from '../models/fake-api'
import { AgentApprovals } from './AgentApprovals'

afterEach(cleanup)

const approval = (id: string, risk: 'moderate' | 'high', command: string): AgentApproval => ({
  id,
  client: { name: 'claude-code' },
  command,
  cwd: '/home/u/proj',
  shell: 'bash',
  verdict: {
    command,
    shell: 'bash',
    risk,
    action: 'confirm',
    reasons: [
      { ruleId: 'fs.rm', risk, message: 'Deletes build recursively', span: { start: 0, end: 2 } },
    ],
  },
  requestedAt: Date.now(),
  expiresAt: Date.now() + 300_000,
})

function setup(pending: AgentApproval[] = []) {
  const decided: Array<{ id: string; decision: string; reason?: string }> = []
  const fake = createFakeApi({
    'agent:pending': () => ({ approvals: pending }),
    'agent:decide': (args) => {
      decided.push(args as (typeof decided)[number])
      return { id: args.id, decision: args.decision === 'approve' ? 'approved' : 'denied' }
    },
  })
  render(
    <div>
      <textarea aria-label="terminal" />
      <AgentApprovals api={fake.api} />
    </div>,
  )
  return { fake, decided }
}

describe('agent approval notice', () => {
  it('shows nothing until an agent waits, then the request with its verdict', async () => {
    const { fake } = setup()
    expect(screen.queryByTestId('agent-approval')).toBeNull()
    act(() => fake.emit('agent:approvalRequested', approval('a1', 'moderate', 'npm publish')))
    const card = await screen.findByTestId('agent-approval')
    expect(card.textContent).toMatch(/claude-code wants to run/)
    expect(card.textContent).toMatch(/in \/home\/u\/proj/)
    expect(card.textContent).toMatch(/Deletes build recursively/)
    act(() => fake.emit('agent:approvalSettled', { id: 'a1', decision: 'cancelled' }))
    await waitFor(() => expect(screen.queryByTestId('agent-approval')).toBeNull())
  })

  it('never takes the keyboard: keys typed in the terminal decide nothing', async () => {
    const { decided } = setup([approval('a1', 'moderate', 'npm publish')])
    await screen.findByTestId('agent-approval')
    const terminal = screen.getByLabelText('terminal')
    terminal.focus()
    for (const key of ['Enter', 'd', 'D', 'a']) fireEvent.keyDown(terminal, { key })
    expect(decided).toEqual([])
    expect(document.activeElement).toBe(terminal)
  })

  it('Ctrl+Shift+A moves to it; Enter approves (twice for high risk); D denies with the reason', async () => {
    const { decided } = setup([
      approval('h1', 'high', 'rm -rf ./build'),
      approval('m1', 'moderate', 'npm publish'),
    ])
    const card = await screen.findByTestId('agent-approval')
    fireEvent.keyDown(window, { key: 'A', code: 'KeyA', ctrlKey: true, shiftKey: true })
    expect(document.activeElement).toBe(card)
    expect(card.textContent).toMatch(/request 1 of 2/)
    fireEvent.keyDown(card, { key: 'Enter' })
    expect(decided).toEqual([])
    expect(card.textContent).toMatch(/Press Enter again/)
    fireEvent.keyDown(card, { key: 'Enter' })
    await waitFor(() => expect(decided).toEqual([{ id: 'h1', decision: 'approve' }]))
    // The next request; a typed reason goes with the denial, and typing it decides nothing.
    await waitFor(() =>
      expect(screen.getByTestId('agent-approval').textContent).toMatch(/npm publish/),
    )
    const reason = screen.getByLabelText(/Reason for denying/)
    fireEvent.change(reason, { target: { value: 'not from this branch' } })
    fireEvent.keyDown(reason, { key: 'd' })
    expect(decided).toHaveLength(1)
    fireEvent.click(screen.getByRole('button', { name: 'Deny' }))
    await waitFor(() =>
      expect(decided[1]).toEqual({ id: 'm1', decision: 'deny', reason: 'not from this branch' }),
    )
    await waitFor(() => expect(screen.queryByTestId('agent-approval')).toBeNull())
  })
})

describe('history panel: Agents view', () => {
  const event = (id: number, e: Partial<AgentEvent>): AgentEvent => ({
    id,
    client: { name: 'claude-code' },
    via: 'mcp',
    tool: 'run_command',
    command: 'ls',
    risk: 'safe',
    action: 'allow',
    reasons: [],
    decision: 'allowed',
    startedAt: Date.UTC(2026, 0, 1),
    commandId: null,
    ...e,
  })

  it('lists agents’ commands with agent, verdict and outcome, filters, and updates live', async () => {
    const queries: unknown[] = []
    let events = [
      event(2, { command: 'rm -rf /', risk: 'critical', action: 'block', decision: 'blocked' }),
      event(1, { command: 'npm test', exitCode: 1, client: { name: 'codex' } }),
    ]
    const fake = createFakeApi({
      'history:agentEvents': (args) => {
        queries.push(args)
        return { events, clients: ['claude-code', 'codex'] }
      },
    })
    const inserted: string[] = []
    render(
      <AgentsView
        api={fake.api}
        onInsert={(c) => inserted.push(c)}
        onClose={() => undefined}
        onView={() => undefined}
      />,
    )
    const list = await screen.findByRole('listbox', { name: 'Commands of coding agents' })
    await waitFor(() => expect(list.querySelectorAll('[role=option]')).toHaveLength(2))
    expect(list.textContent).toMatch(/rm -rf \/.*blocked/)
    expect(list.textContent).toMatch(/npm test.*allowed · ✗ 1.*codex/)
    fireEvent.change(screen.getByLabelText(/Agent/), { target: { value: 'codex' } })
    await waitFor(() => expect(queries.at(-1)).toMatchObject({ client: 'codex' }))
    events = [event(3, { command: 'git status' }), ...events]
    act(() => fake.emit('history:agent', events[0]!))
    await waitFor(() => expect(list.textContent).toMatch(/git status/))
    fireEvent.keyDown(list, { key: 'Enter' })
    expect(inserted).toEqual(['git status'])
  })
})
