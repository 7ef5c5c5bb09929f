/** What Tab can reach inside a dialog. */
const FOCUSABLE =
  'button:not([disabled]), [href], input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])'

/** The elements Tab moves between inside `root`, in order (hidden ones left out). */
export function focusableIn(root: HTMLElement): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter(
    (el) => !el.closest('[hidden]') && el.getAttribute('aria-hidden') !== 'true',
  )
}

/**
 * Gives the keyboard back to the terminal of the active tab (xterm's input textarea). A query, not
 * a ref: dialogs close from many places and the terminal's view lives in its own component.
 * Returns false when there is no terminal on screen.
 */
export function focusActiveTerminal(): boolean {
  const input = document.querySelector<HTMLElement>('.terminal-pane:not([hidden]) textarea')
  if (!input) return false
  input.focus()
  return document.activeElement === input
}
