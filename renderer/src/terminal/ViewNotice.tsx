import { useEffect, useRef } from 'react'
import type { ConnectionState } from '../api/socket-bridge'
import type { ViewState } from './use-terminal-tabs'

interface ChoiceProps {
  view: ViewState
  onTakeOver(): void
  onStartNew(): void
}

/**
 * Shown instead of the terminals when another browser tab shows them: shells are never taken
 * silently, the user chooses.
 */
export function ViewChoice({ view, onTakeOver, onStartNew }: ChoiceProps) {
  const first = useRef<HTMLButtonElement>(null)
  useEffect(() => first.current?.focus(), [view.kind])
  if (view.kind !== 'in-use' && view.kind !== 'taken' && view.kind !== 'failed') return null
  return (
    <div className="view-choice" role="region" aria-label="Terminals">
      {view.kind === 'in-use' && <p>These terminals are open in another browser tab or window.</p>}
      {view.kind === 'taken' && <p>These terminals were moved to another browser tab or window.</p>}
      {view.kind === 'failed' && <p role="alert">Could not reach the terminals: {view.message}</p>}
      <div className="view-choice-actions">
        <button type="button" ref={first} onClick={onStartNew}>
          Open new terminals here
        </button>
        {view.kind !== 'failed' && (
          <button type="button" onClick={onTakeOver}>
            Move them to this tab
          </button>
        )}
      </div>
    </div>
  )
}

interface BannerProps {
  connection: ConnectionState
  graceMinutes: number | null
}

/** Says when the page is not connected, and what happens to the shells meanwhile. */
export function ConnectionBanner({ connection, graceMinutes }: BannerProps) {
  if (connection === 'reconnecting') {
    const grace =
      graceMinutes === null
        ? ''
        : ` Your shells keep running on the server for ${formatMinutes(graceMinutes)}.`
    return (
      <div className="banner banner-warning" role="status" data-testid="reconnecting">
        Reconnecting to cmdai…{grace}
      </div>
    )
  }
  if (connection === 'refused') {
    return (
      <div className="banner banner-error" role="alert">
        cmdai no longer accepts this page (its token was replaced with `cmdai serve --new-token`).
        Open the URL that `cmdai serve` printed.
      </div>
    )
  }
  if (connection === 'closed') {
    return (
      <div className="banner banner-error" role="alert">
        Disconnected from cmdai. Reload the page to reconnect.
      </div>
    )
  }
  return null
}

function formatMinutes(minutes: number): string {
  if (minutes < 1) return `${Math.round(minutes * 60)} seconds`
  return minutes === 1 ? '1 minute' : `${minutes} minutes`
}
