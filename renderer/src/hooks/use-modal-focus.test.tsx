// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react'
import { useState } from 'react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Overlay } from '../components/Overlay'
import { Dialog } from '../components/settings/Dialog'

afterEach(() => {
  cleanup()
  document.body.innerHTML = ''
})

/** A terminal stand-in: xterm's input is a textarea inside the visible pane. */
function terminal(): HTMLTextAreaElement {
  const pane = document.createElement('div')
  pane.className = 'terminal-pane'
  const input = document.createElement('textarea')
  pane.append(input)
  document.body.append(pane)
  return input
}

function Harness({ kind, onClose }: { kind: 'overlay' | 'dialog'; onClose(): void }) {
  const [open, setOpen] = useState(true)
  const close = () => {
    onClose()
    setOpen(false)
  }
  if (!open) return null
  const body = (
    <>
      <input aria-label="first" autoFocus />
      <button>middle</button>
      <button disabled>off</button>
      <button>last</button>
    </>
  )
  return kind === 'overlay' ? (
    <Overlay labelledBy="t" onClose={close}>
      <h2 id="t">Test</h2>
      {body}
    </Overlay>
  ) : (
    <Dialog title="Test" onClose={close}>
      {body}
    </Dialog>
  )
}

describe.each(['overlay', 'dialog'] as const)('modal focus (%s)', (kind) => {
  it('keeps Tab inside and wraps at both ends', () => {
    terminal().focus()
    render(<Harness kind={kind} onClose={vi.fn()} />)
    const first = screen.getByRole('textbox', { name: 'first' })
    const last = screen.getByRole('button', { name: 'last' })
    expect(document.activeElement).toBe(first)
    last.focus()
    fireEvent.keyDown(last, { key: 'Tab' })
    expect(document.activeElement).toBe(
      kind === 'dialog' ? screen.getByRole('button', { name: 'Close Test' }) : first,
    )
    const start = document.activeElement as HTMLElement
    fireEvent.keyDown(start, { key: 'Tab', shiftKey: true })
    expect(document.activeElement).toBe(last)
  })

  it('answers Esc and Tab when the focused control went away', () => {
    const onClose = vi.fn()
    render(<Harness kind={kind} onClose={onClose} />)
    // A button that became disabled or a row that was deleted: focus falls to the page.
    ;(document.activeElement as HTMLElement).blur()
    expect(document.activeElement).toBe(document.body)
    fireEvent.keyDown(document.body, { key: 'Tab' })
    expect(screen.getByRole('dialog').contains(document.activeElement)).toBe(true)
    ;(document.activeElement as HTMLElement).blur()
    fireEvent.keyDown(document.body, { key: 'Escape' })
    expect(onClose).toHaveBeenCalledOnce()
  })

  it('gives the keyboard back to the terminal when it closes', async () => {
    const input = terminal()
    const opener = document.createElement('button')
    document.body.append(opener)
    opener.focus()
    render(<Harness kind={kind} onClose={vi.fn()} />)
    fireEvent.keyDown(screen.getByRole('textbox', { name: 'first' }), { key: 'Escape' })
    await act(() => new Promise((r) => setTimeout(r, 5)))
    expect(document.activeElement).toBe(input)
  })
})
