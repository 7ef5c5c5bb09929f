import { useRef, useState } from 'react'
import type { LibraryInfo } from '../../../../contract'
import { errorMessage, type Api } from '../../api/client'

/**
 * Joining a team library by signing in with the team's identity provider instead of a token:
 * main starts a loopback listener and gives the sign-in address, which opens in the system
 * browser (the desktop app) or a new tab (browser mode); when the browser comes back, main has
 * the session and joins the library. The address is also shown as a link, in case a pop-up
 * blocker stopped the new tab.
 */
export function SsoJoin({
  api,
  server,
  library,
  onJoined,
}: {
  api: Api
  server: string
  library: string
  onJoined(l: LibraryInfo): void
}) {
  const [url, setUrl] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  const flow = useRef<string | null>(null)
  const start = async () => {
    setError(null)
    try {
      const started = await api.call('identity:signIn', { server: server.trim() })
      flow.current = started.flow
      setUrl(started.url)
      window.open(started.url, '_blank', 'noopener,noreferrer')
      const done = await api.call('identity:signInWait', {
        flow: started.flow,
        library: library.trim(),
      })
      const info = (await api.call('library:list', {})).find((l) => l.id === done.library)
      if (info) onJoined(info)
    } catch (err) {
      setError(errorMessage(err))
    } finally {
      flow.current = null
      setUrl(null)
    }
  }
  const cancel = () => {
    if (flow.current) void api.call('identity:cancel', { flow: flow.current })
  }
  return (
    <div className="sso-join" data-testid="sso-join">
      {url ? (
        <p role="status">
          Waiting for the sign-in in your browser…{' '}
          <a href={url} target="_blank" rel="noopener noreferrer">
            Open the sign-in page
          </a>{' '}
          <button type="button" onClick={cancel}>
            Cancel
          </button>
        </p>
      ) : (
        <button
          type="button"
          disabled={!server.trim() || !library.trim()}
          onClick={() => void start()}
        >
          Sign in with single sign-on
        </button>
      )}
      {error && (
        <p className="palette-notice" role="alert">
          {error}
        </p>
      )}
    </div>
  )
}
