import { useEffect, useState } from 'react'
import { IDENTITY_PATHS, type SsoConfig } from '../../../../contract/identity'
import './identity.css'

/**
 * The console's sign-in with the team's identity provider, when the server has one: a link to
 * the server's sign-in, which goes to the IdP and comes back with the console's session cookie.
 */
export function SsoSignIn() {
  const [config, setConfig] = useState<SsoConfig | null>(null)
  useEffect(() => {
    let live = true
    fetch(IDENTITY_PATHS.config, { credentials: 'omit' })
      .then((r) => (r.ok ? (r.json() as Promise<SsoConfig>) : null))
      .then(
        (c) => live && setConfig(c),
        () => {},
      )
    return () => {
      live = false
    }
  }, [])
  if (!config?.enabled) return null
  return (
    <p className="sso" data-testid="sso-signin">
      <a className="button" href={IDENTITY_PATHS.console}>
        Sign in with single sign-on
      </a>{' '}
      {config.issuer && <span className="muted">({new URL(config.issuer).host})</span>}
    </p>
  )
}
