/**
 * Which keyboard shortcuts the app may take. Pure: the settings form checks a shortcut as it is
 * typed and main checks it again before saving. A shortcut is taken before the terminal sees the
 * key, so one on Ctrl+C would swallow the interrupt, one on a bare letter would swallow typing,
 * and two actions on one key would leave one of them unreachable.
 */

export type ShortcutAction = 'palette' | 'history' | 'explain' | 'newTab' | 'settings'

export const SHORTCUT_LABELS: Record<ShortcutAction, string> = {
  palette: 'Open the palette',
  history: 'Search history',
  explain: 'Explain the selection',
  newTab: 'New terminal tab',
  settings: 'Open Settings',
}

/** Keys that the shell or the terminal needs, with what they do there (Linux/Windows spelling). */
const TERMINAL_KEYS: Record<string, string> = {
  'Ctrl+C': 'interrupts the running program',
  'Ctrl+D': 'ends input and closes the shell',
  'Ctrl+Z': 'suspends the running program',
  'Ctrl+S': 'pauses terminal output',
  'Ctrl+Q': 'resumes terminal output',
  'Ctrl+Shift+C': 'copies from the terminal',
  'Ctrl+Shift+V': 'pastes into the terminal',
  'Ctrl+Shift+W': 'closes the tab',
}

/** The same on macOS, where Mod is Cmd. */
const MAC_KEYS: Record<string, string> = {
  ...TERMINAL_KEYS,
  'Meta+C': 'copies',
  'Meta+V': 'pastes',
  'Meta+Q': 'quits the app',
  'Meta+W': 'closes the window',
}

const MODIFIER_ORDER = ['Ctrl', 'Alt', 'Shift', 'Meta'] as const

/** The shortcut as one platform sees it: Mod resolved, modifiers in a fixed order, key upper-case. */
export function canonicalShortcut(shortcut: string, mac: boolean): string {
  const parts = shortcut.split('+')
  const key = parts.pop() ?? ''
  const mods = new Set(parts.map((p) => (p === 'Mod' ? (mac ? 'Meta' : 'Ctrl') : p)))
  const ordered = MODIFIER_ORDER.filter((m) => mods.has(m))
  return [...ordered, key.length === 1 ? key.toUpperCase() : key].join('+')
}

/**
 * Why `shortcut` cannot be used for `action` next to the `others` already set, in the words a
 * user understands; null when it is fine. Assumes the text already has the shortcut's syntax.
 */
export function shortcutProblem(
  action: ShortcutAction,
  shortcut: string,
  others: Partial<Record<ShortcutAction, string>>,
): string | null {
  const linux = canonicalShortcut(shortcut, false)
  const mac = canonicalShortcut(shortcut, true)
  const key = linux.split('+').pop() ?? ''
  const hasModifier = /(^|\+)(Ctrl|Alt|Meta)\+/.test(linux)
  if (!hasModifier && !/^F\d{1,2}$/.test(key)) {
    return `${shortcut} alone would take the key from whatever you type in the terminal: add Ctrl, Alt or Mod`
  }
  const taken = TERMINAL_KEYS[linux] ?? MAC_KEYS[mac]
  if (taken) {
    const spelled = TERMINAL_KEYS[linux] ? linux : mac.replace('Meta', 'Cmd')
    return `${spelled} ${taken}; choose another shortcut`
  }
  for (const [other, value] of Object.entries(others) as Array<[ShortcutAction, string]>) {
    if (other === action || !value) continue
    if (canonicalShortcut(value, false) === linux || canonicalShortcut(value, true) === mac) {
      return `${shortcut} is already the shortcut for “${SHORTCUT_LABELS[other]}”`
    }
  }
  return null
}
