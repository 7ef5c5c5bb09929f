// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { CmdaiError } from '../../../../contract/errors'
import { createFakeApi, fakeSettings, type FakeApi } from '../models/fake-api'
import { SettingsPanel } from './SettingsPanel'

afterEach(cleanup)

function setup(initial = {}) {
  const settings = fakeSettings(() => fake, initial)
  const fake: FakeApi = createFakeApi(settings.handlers)
  return { fake, settings }
}

async function renderPanel(
  fake: FakeApi,
  props: { onClose?: () => void; onOpenModels?: () => void } = {},
) {
  render(
    <SettingsPanel
      api={fake.api}
      onClose={props.onClose ?? vi.fn()}
      onOpenModels={props.onOpenModels ?? vi.fn()}
    />,
  )
  await screen.findByRole('heading', { name: 'Safety' })
}

async function commit(label: string, value: string) {
  const input = screen.getByLabelText(label)
  fireEvent.change(input, { target: { value } })
  await act(async () => fireEvent.blur(input))
  return input
}

describe('SettingsPanel', () => {
  it('is a labelled modal dialog that closes on Escape', async () => {
    const { fake } = setup()
    const onClose = vi.fn()
    await renderPanel(fake, { onClose })
    const dialog = screen.getByRole('dialog', { name: 'Settings' })
    expect(dialog.getAttribute('aria-modal')).toBe('true')
    fireEvent.keyDown(screen.getByLabelText('Shell'), { key: 'Escape' })
    expect(onClose).toHaveBeenCalledOnce()
  })

  it('saves a valid value and says so politely', async () => {
    const { fake, settings } = setup()
    await renderPanel(fake)
    await commit('Font size', '15')
    expect(settings.current().appearance.fontSize).toBe(15)
    const status = screen.getByRole('status')
    expect(status.getAttribute('aria-live')).toBe('polite')
    expect(status.textContent).toBe('Saved')
  })

  it("shows the field's own sentence next to an invalid value and changes nothing else", async () => {
    const { fake, settings } = setup({ terminal: { shell: '/bin/zsh' } })
    await renderPanel(fake)
    const before = settings.current()
    const input = await commit('Scrollback lines', '50')
    expect(input.getAttribute('aria-invalid')).toBe('true')
    const message = document.getElementById(input.getAttribute('aria-describedby')!.split(' ')[1]!)
    expect(message?.textContent).toBe('Scrollback is a whole number of lines from 100 to 200,000')
    expect(settings.current()).toEqual(before)
    expect(screen.getByRole('status').textContent).toMatch(/Not saved/)
    // The refused draft stays for the user to fix; other fields keep their saved values.
    expect(input).toHaveProperty('value', '50')
    expect(screen.getByLabelText('Shell')).toHaveProperty('value', '/bin/zsh')
    await commit('Font size', 'big')
    expect(screen.getByText('Font size is a whole number of pixels from 8 to 32')).toBeTruthy()
    expect(fake.callsTo('settings:update')).toHaveLength(0)

    await commit('Scrollback lines', '5000')
    expect(settings.current().terminal.scrollback).toBe(5000)
    const saved = screen.getByLabelText('Scrollback lines')
    expect(saved).toHaveProperty('value', '5000')
    expect(saved.getAttribute('aria-invalid')).toBeNull()
  })

  it('keeps what was saved before when another field of the same section is saved', async () => {
    const { fake, settings } = setup()
    await renderPanel(fake)
    await act(async () =>
      fireEvent.change(screen.getByLabelText('Theme'), { target: { value: 'dark' } }),
    )
    await commit('Font size', '16')
    await commit('Terminal font family', 'monospace')
    expect(settings.current().appearance).toEqual({
      theme: 'dark',
      fontSize: 16,
      fontFamily: 'monospace',
    })
    await commit('Shell', '/bin/bash')
    await commit('Scrollback lines', '2000')
    expect(settings.current().terminal).toMatchObject({ shell: '/bin/bash', scrollback: 2000 })
    await commit('Open the palette', 'Mod+P')
    await commit('Search history', 'Alt+H')
    expect(settings.current().shortcuts).toMatchObject({ palette: 'Mod+P', history: 'Alt+H' })
  })

  it("shows main's refusal in its own words, without the request's name", async () => {
    const refuse: FakeApi = createFakeApi({
      ...fakeSettings(() => refuse, {}).handlers,
      'settings:update': () => {
        throw new CmdaiError('invalid_input', 'There is no shell at /bin/nosuchshell')
      },
    })
    await renderPanel(refuse)
    const input = await commit('Shell', '/bin/nosuchshell')
    expect(input.getAttribute('aria-invalid')).toBe('true')
    expect(screen.getByText('There is no shell at /bin/nosuchshell')).toBeTruthy()
    expect(screen.getByRole('status').textContent).toMatch(/Not saved/)
  })

  it('checks shortcuts before sending them: syntax, keys the terminal needs, conflicts', async () => {
    const { fake, settings } = setup()
    await renderPanel(fake)
    let input = await commit('Open the palette', 'Ctrl+')
    expect(input.getAttribute('aria-invalid')).toBe('true')
    expect(screen.getByText(/^Write a shortcut like Mod\+K or Ctrl\+Shift\+E/)).toBeTruthy()
    input = await commit('Open the palette', 'Ctrl+C')
    expect(
      screen.getByText('Ctrl+C interrupts the running program; choose another shortcut'),
    ).toBeTruthy()
    input = await commit('Open the palette', 'Ctrl+R')
    expect(screen.getByText('Ctrl+R is already the shortcut for “Search history”')).toBeTruthy()
    expect(fake.callsTo('settings:update')).toHaveLength(0)
    await commit('Open the palette', 'Mod+P')
    expect(settings.current().shortcuts.palette).toBe('Mod+P')
    expect(input.getAttribute('aria-invalid')).toBeNull()
  })

  it('sets the safety level, theme and privacy through settings:update', async () => {
    const { fake, settings } = setup()
    await renderPanel(fake)
    await act(async () => fireEvent.click(screen.getByRole('radio', { name: /^Strict/ })))
    expect(settings.current().safety.level).toBe('strict')
    await act(async () =>
      fireEvent.change(screen.getByLabelText('Theme'), { target: { value: 'light' } }),
    )
    expect(settings.current().appearance.theme).toBe('light')

    const remote = screen.getByRole('checkbox', {
      name: 'Allow remote (OpenAI-compatible) backends',
    })
    expect(remote).toHaveProperty('checked', false)
    expect(screen.getByText(/leave this machine/)).toBeTruthy()
    await act(async () => fireEvent.click(remote))
    expect(settings.current().privacy.allowRemoteBackends).toBe(true)
    expect(remote).toHaveProperty('checked', true)

    const context = screen.getByRole('group', { name: 'Context a remote backend may receive' })
    await act(async () =>
      fireEvent.click(within(context).getByRole('checkbox', { name: 'Recent commands' })),
    )
    expect(settings.current().privacy.remoteContext).toEqual({
      cwd: true,
      git: true,
      fileNames: false,
      recentCommands: true,
    })
  })

  it('shows where data lives, read-only, and opens the model manager', async () => {
    const { fake } = setup()
    const onOpenModels = vi.fn()
    await renderPanel(fake, { onOpenModels })
    expect(screen.getByLabelText('Data folder')).toHaveProperty('value', '/data/cmdai')
    expect(screen.getByLabelText('Data folder')).toHaveProperty('readOnly', true)
    expect(screen.getByLabelText('Settings file')).toHaveProperty(
      'value',
      '/data/cmdai/settings.json',
    )
    expect(screen.getAllByText('CMDAI_DATA_DIR').length).toBeGreaterThan(0)
    fireEvent.click(screen.getByRole('button', { name: 'Open the model manager' }))
    expect(onOpenModels).toHaveBeenCalledOnce()
  })
})
