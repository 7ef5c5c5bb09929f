import type { ServerResponse } from 'node:http'
import { IDENTITY_PATHS } from '../../contract/identity'
import { SECURITY_HEADERS } from '../console/http'

/**
 * The few pages the sign-in shows in the browser itself: a team chooser (when the IdP's groups
 * grant several teams) and the end of an app sign-in. Escaped, under a CSP that allows no script
 * and posts only back to this server.
 */
const esc = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  )

const STYLE =
  'body{font:16px system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1b1f24}' +
  'button{font:inherit;display:block;width:100%;margin:.5rem 0;padding:.6rem;border:1px solid #57606a;' +
  'border-radius:6px;background:#f6f8fa;color:#1b1f24;cursor:pointer}button:focus{outline:3px solid #0969da}' +
  '@media (prefers-color-scheme:dark){body{background:#0d1117;color:#e6edf3}' +
  'button{background:#21262d;color:#e6edf3;border-color:#8b949e}}'

function page(res: ServerResponse, status: number, title: string, body: string): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy':
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  })
  res.end(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
      `<title>${esc(title)}</title><style>${STYLE}</style></head><body><main><h1>${esc(title)}</h1>${body}</main></body></html>`,
  )
}

/** Buttons, one per team; each posts the flow's one-time code with the team chosen. */
export function chooserPage(
  res: ServerResponse,
  user: string,
  code: string,
  teams: Array<{ team: string; role: string }>,
): void {
  const buttons = teams
    .map(
      (t) =>
        `<button type="submit" name="team" value="${esc(t.team)}">${esc(t.team)} <small>(${esc(t.role)})</small></button>`,
    )
    .join('')
  page(
    res,
    200,
    'Choose a team',
    `<p>Signed in as <strong>${esc(user)}</strong>. Your groups give you access to several teams.</p>` +
      `<form method="post" action="${IDENTITY_PATHS.choose}"><input type="hidden" name="code" value="${esc(code)}">${buttons}</form>`,
  )
}
