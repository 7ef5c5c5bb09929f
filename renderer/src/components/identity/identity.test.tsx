// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { LibraryInfo, TeamIdentity } from '../../../../contract'
import type { Elevation } from '../../../../contract/identity'
import { createFakeApi } from '../models/fake-api'
import { StatusBar } from '../StatusBar'
import { SsoJoin } from './SsoJoin'
import { TeamAccess } from './TeamAccess'
import { describeAccess, timeLeft } from './use-identity'

afterEach(cleanup)

const now = Date.now()
const elevation = (extra: Partial<Elevation> = {}): Elevation => ({
  id: '6f1c1c3e-0000-4000-8000-000000000001',
  team: 'platform',
  user: 'ana',
  fromRole: 'junior',
  role: 'engineer',
  reason: 'INC-42',
  production: false,
  durationMs: 3600_000,
  status: 'active',
  requestedAt: now,
  requestExpiresAt: now + 3600_000,
  approvalsNeeded: 1,
  approvals: [{ by: 'ada', at: now, comment: '' }],
  rule: 'default',
  startsAt: now,
  expiresAt: now + 42 * 60_000,
  ...extra,
})

const team = (view: Partial<NonNullable<TeamIdentity['view']>> = {}): TeamIdentity => ({
  server: 'https://sync.example.com',
  team: 'platform',
  sso: true,
  view: {
    team: 'platform',
    user: 'ana',
    role: 'junior',
    baseRole: 'junior',
    via: 'sso',
    expiresAt: now + 600_000,
    elevation: null,
    pending: null,
    ...view,
  },
})

describe('describeAccess', () => {
  it('says the role, and the time an elevation has left', () => {
    expect(describeAccess([], now)).toBeNull()
    expect(describeAccess([team()], now)?.text).toBe('platform: junior')
    const up = describeAccess([team({ role: 'engineer', elevation: elevation() })], now)!
    expect(up.text).toBe('platform: engineer ↑ 42 min')
    expect(up.elevated).toBe(true)
    expect(up.detail).toContain('elevated from junior')
    // Past its end (before the server's word arrives), no longer shown as elevated.
    expect(describeAccess([team({ elevation: elevation() })], now + 43 * 60_000)?.elevated).toBe(
      false,
    )
    expect(describeAccess([{ ...team(), view: null, error: 'offline' }], now)).toBeNull()
    expect(timeLeft(30_000)).toBe('30 s')
    expect(timeLeft(65 * 60_000)).toBe('1 h 5 min')
  })

  it('shows in the status bar', () => {
    render(
      <StatusBar
        info={null}
        status={null}
        connection="open"
        libraries={[] as LibraryInfo[]}
        identities={[team({ role: 'engineer', elevation: elevation() })]}
      />,
    )
    expect(screen.getByTestId('status-access').textContent).toMatch(
      /platform: engineer ↑ 4[12] min/,
    )
  })
})

describe('Your access', () => {
  it('asks for a higher role with a reason and ends it', async () => {
    let current = team()
    const fake = createFakeApi({
      'identity:status': () => ({ teams: [current] }),
      'identity:elevate': (args) => {
        current = team({ role: args.role, elevation: elevation({ role: args.role }) })
        return elevation({ role: args.role })
      },
      'identity:endElevation': () => {
        current = team()
        return elevation({ status: 'ended' })
      },
      'identity:signOut': () => null,
    })
    render(<TeamAccess api={fake.api} />)
    await screen.findByText('Request a higher role…')
    fireEvent.click(screen.getByText('Request a higher role…'))
    const form = screen.getByTestId('elevate-form')
    const submit = screen.getByText('Request') as HTMLButtonElement
    expect(submit.disabled).toBe(true)
    fireEvent.change(form.querySelector('input[type=text]')!, {
      target: { value: 'INC-42 rollback' },
    })
    fireEvent.click(screen.getByText('Request'))
    await screen.findByTestId('access-elevation')
    expect(fake.callsTo('identity:elevate')[0]).toEqual({
      team: 'platform',
      role: 'engineer',
      durationMs: 3600_000,
      reason: 'INC-42 rollback',
      production: false,
    })
    expect(screen.getByTestId('access-role').textContent).toBe('engineer')
    fireEvent.click(screen.getByText('End now'))
    await waitFor(() => expect(screen.queryByTestId('access-elevation')).toBeNull())
  })

  it('shows an error in words', async () => {
    const fake = createFakeApi({
      'identity:status': () => ({ teams: [team()] }),
      'identity:elevate': () => {
        throw new Error('Team server: at most 30 minutes for junior → engineer')
      },
    })
    render(<TeamAccess api={fake.api} />)
    fireEvent.click(await screen.findByText('Request a higher role…'))
    fireEvent.change(screen.getByTestId('elevate-form').querySelector('input[type=text]')!, {
      target: { value: 'long job' },
    })
    fireEvent.click(screen.getByText('Request'))
    expect((await screen.findByRole('alert')).textContent).toContain('at most 30 minutes')
  })
})

describe('SsoJoin', () => {
  it('opens the sign-in address, waits, and joins', async () => {
    const open = vi.spyOn(window, 'open').mockReturnValue(null)
    const info = { id: 'platform/deploy' } as LibraryInfo
    const joined: LibraryInfo[] = []
    const fake = createFakeApi({
      'identity:signIn': () => ({
        flow: 'flow-1234567890',
        url: 'http://127.0.0.1:4455/auth/sso/authorize?x=1',
      }),
      'identity:signInWait': () => ({
        team: 'platform',
        user: 'ana',
        role: 'engineer',
        library: 'platform/deploy',
      }),
      'library:list': () => [info],
    })
    render(
      <SsoJoin
        api={fake.api}
        server="http://127.0.0.1:4455"
        library="deploy"
        onJoined={(l) => joined.push(l)}
      />,
    )
    fireEvent.click(screen.getByText('Sign in with single sign-on'))
    await waitFor(() => expect(joined).toEqual([info]))
    expect(open).toHaveBeenCalledWith(
      'http://127.0.0.1:4455/auth/sso/authorize?x=1',
      '_blank',
      'noopener,noreferrer',
    )
    expect(fake.callsTo('identity:signInWait')[0]).toEqual({
      flow: 'flow-1234567890',
      library: 'deploy',
    })
    open.mockRestore()
  })
})
