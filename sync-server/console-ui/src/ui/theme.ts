import { useCallback, useEffect, useState } from 'react'

type Theme = 'light' | 'dark'

/** Light or dark: the system's choice until the user picks one (kept in this browser). */
export function useTheme() {
  const system = (): Theme =>
    matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'
  const [theme, setTheme] = useState<Theme>(() => {
    const saved = localStorage.getItem('cmdai-console-theme')
    return saved === 'dark' || saved === 'light' ? saved : system()
  })
  useEffect(() => {
    document.documentElement.dataset.theme = theme
  }, [theme])
  const toggle = useCallback(() => {
    setTheme((t) => {
      const next = t === 'dark' ? 'light' : 'dark'
      localStorage.setItem('cmdai-console-theme', next)
      return next
    })
  }, [])
  return { theme, toggle, next: theme === 'dark' ? ('light' as const) : ('dark' as const) }
}
