import { useEffect, useRef, type RefObject } from 'react'
import { focusableIn, focusActiveTerminal } from '../lib/focus'

/**
 * Keyboard focus for a modal dialog: focus starts inside it, Tab and Shift+Tab stay inside it, Esc
 * closes it (unless the dialog's own handler took the key) even when the focused control went
 * away (a button that became disabled, a row that was deleted) and focus fell to the page, and on
 * close the keyboard goes back to the terminal (or, with no terminal on screen, to where it was).
 */
export function useModalFocus(ref: RefObject<HTMLElement | null>, onClose: () => void): void {
  const close = useRef(onClose)
  useEffect(() => {
    close.current = onClose
  }, [onClose])

  useEffect(() => {
    const dialog = ref.current
    if (!dialog) return
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null
    // autoFocus inside the dialog has run by now; otherwise the dialog itself takes the focus.
    if (!dialog.contains(document.activeElement)) dialog.focus()

    const onKeyDown = (event: KeyboardEvent) => {
      if (event.defaultPrevented || !dialog.isConnected) return
      const inside = dialog.contains(document.activeElement)
      // Esc closes unless the dialog used it (to leave an editor, to take back a question).
      if (event.key === 'Escape') {
        event.preventDefault()
        close.current()
      } else if (event.key === 'Tab') {
        const items = focusableIn(dialog)
        const first = items[0]
        const last = items[items.length - 1]
        if (!first || !last) {
          event.preventDefault()
          dialog.focus()
          return
        }
        const at = document.activeElement
        if (!inside) {
          event.preventDefault()
          ;(event.shiftKey ? last : first).focus()
        } else if (event.shiftKey && (at === first || at === dialog)) {
          event.preventDefault()
          last.focus()
        } else if (!event.shiftKey && at === last) {
          event.preventDefault()
          first.focus()
        }
      }
    }
    // Bubble phase on the document: the dialog's own key handlers (React) run first.
    document.addEventListener('keydown', onKeyDown)
    return () => {
      document.removeEventListener('keydown', onKeyDown)
      // After the commit: another dialog may be opening in this one's place (or, in development,
      // React may be re-running this effect), and then the focus stays where that put it.
      setTimeout(() => {
        const at = document.activeElement
        if (at && at !== document.body && at.closest('[aria-modal="true"]')) return
        if (!focusActiveTerminal() && previous?.isConnected) previous.focus()
      }, 0)
    }
  }, [ref])
}
