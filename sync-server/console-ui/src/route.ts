import { useEffect, useState } from 'react'

/** The console's pages live in the URL fragment (`#/members`), so the server serves one page. */
export function useHashPath(): string[] {
  const [path, setPath] = useState(() => parse(location.hash))
  useEffect(() => {
    const on = () => setPath(parse(location.hash))
    window.addEventListener('hashchange', on)
    return () => window.removeEventListener('hashchange', on)
  }, [])
  return path
}

function parse(hash: string): string[] {
  return hash
    .replace(/^#\/?/, '')
    .split('/')
    .filter(Boolean)
    .map((p) => {
      try {
        return decodeURIComponent(p)
      } catch {
        return p
      }
    })
}

export function go(path: string): void {
  location.hash = `#/${path}`
}
