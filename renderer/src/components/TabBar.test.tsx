// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from '@testing-library/react'
import type { ComponentProps } from 'react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { TabBar } from './TabBar'

afterEach(cleanup)

const tabs = [
  { key: 1, title: 'bash: home', state: 'running' as const },
  { key: 2, title: 'zsh: tmp', state: 'exited' as const },
]

function renderBar(overrides: Partial<ComponentProps<typeof TabBar>> = {}) {
  return render(
    <TabBar
      tabs={tabs}
      activeKey={1}
      activeState="running"
      onSelect={vi.fn()}
      onClose={vi.fn()}
      onNew={vi.fn()}
      onKill={vi.fn()}
      onRestart={vi.fn()}
      {...overrides}
    />,
  )
}

describe('TabBar', () => {
  it('marks the active tab and reports selection, closing and new tabs', () => {
    const onSelect = vi.fn()
    const onClose = vi.fn()
    const onNew = vi.fn()
    renderBar({ onSelect, onClose, onNew })
    const [first, second] = screen.getAllByRole('tab')
    expect(first!.getAttribute('aria-selected')).toBe('true')
    expect(second!.textContent).toContain('zsh: tmp')
    fireEvent.click(second!)
    expect(onSelect).toHaveBeenCalledWith(2)
    fireEvent.click(screen.getByTestId('close-tab-2'))
    expect(onClose).toHaveBeenCalledWith(2)
    expect(onSelect).toHaveBeenCalledTimes(1) // the close click does not also select the tab
    fireEvent.click(screen.getByRole('button', { name: 'New tab' }))
    expect(onNew).toHaveBeenCalledOnce()
  })

  it('moves between tabs with the arrow keys and closes the focused one with Delete', () => {
    const onSelect = vi.fn()
    const onClose = vi.fn()
    renderBar({ onSelect, onClose })
    const list = screen.getByRole('tablist', { name: 'Terminals' })
    fireEvent.keyDown(list, { key: 'ArrowRight' })
    expect(onSelect).toHaveBeenLastCalledWith(2)
    fireEvent.keyDown(list, { key: 'ArrowLeft' })
    expect(onSelect).toHaveBeenLastCalledWith(2) // wraps around from the first tab
    fireEvent.keyDown(list, { key: 'Delete' })
    expect(onClose).toHaveBeenCalledWith(1)
    expect(screen.getAllByRole('tab').map((t) => t.tabIndex)).toEqual([0, -1])
  })

  it('disables Kill when the shell is not running', () => {
    renderBar({ activeKey: 2, activeState: 'exited' })
    expect(screen.getByRole('button', { name: 'Kill shell' })).toHaveProperty('disabled', true)
    expect(screen.getByRole('button', { name: 'Restart shell' })).toHaveProperty('disabled', false)
  })
})
