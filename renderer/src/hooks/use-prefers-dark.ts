import { useSyncExternalStore } from 'react'

const query = () => window.matchMedia('(prefers-color-scheme: dark)')

/** Follows the OS light/dark setting live. */
export function usePrefersDark(): boolean {
  return useSyncExternalStore(
    (onChange) => {
      const mq = query()
      mq.addEventListener('change', onChange)
      return () => mq.removeEventListener('change', onChange)
    },
    () => query().matches,
    () => true,
  )
}
