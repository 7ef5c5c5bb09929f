/** `Mod` is Cmd on macOS and Ctrl elsewhere, as in the settings (`Mod+K`). */
export function isMac(): boolean {
  return /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent)
}

export function matchesShortcut(event: KeyboardEvent, shortcut: string): boolean {
  const parts = shortcut.split('+')
  const key = parts.pop()?.toLowerCase()
  if (!key) return false
  const wants = new Set(parts.map((p) => p.toLowerCase()))
  const mac = isMac()
  const ctrl = wants.has('ctrl') || (wants.has('mod') && !mac)
  const meta = wants.has('meta') || (wants.has('mod') && mac)
  if (event.ctrlKey !== ctrl || event.metaKey !== meta) return false
  if (event.altKey !== wants.has('alt') || event.shiftKey !== wants.has('shift')) return false
  const pressed = event.key.toLowerCase()
  return (
    pressed === key ||
    (key === 'space' && pressed === ' ') ||
    event.code.toLowerCase() === `key${key}`
  )
}

export function describeShortcut(shortcut: string): string {
  return shortcut.replace('Mod', isMac() ? '⌘' : 'Ctrl')
}
