import { useId, useRef, type KeyboardEvent, type ReactNode } from 'react'
import { useModalFocus } from '../../hooks/use-modal-focus'
import '../panels.css'

interface Props {
  title: string
  onClose(): void
  children: ReactNode
  className?: string
}

/**
 * A modal dialog: labelled by its heading, Esc and the close button close it, Tab stays inside,
 * and the keyboard goes back to the terminal when it closes (use-modal-focus.ts).
 */
export function Dialog({ title, onClose, children, className }: Props) {
  const ref = useRef<HTMLDivElement>(null)
  const titleId = useId()
  useModalFocus(ref, onClose)

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.key === 'Escape') {
      event.preventDefault()
      event.stopPropagation()
      onClose()
    }
  }

  return (
    <div className="cm-overlay" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        ref={ref}
        className={`cm-dialog ${className ?? ''}`}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        tabIndex={-1}
        onKeyDown={onKeyDown}
      >
        <header className="cm-dialog-header">
          <h2 id={titleId}>{title}</h2>
          <button
            type="button"
            className="cm-close"
            aria-label={`Close ${title}`}
            onClick={onClose}
          >
            ×
          </button>
        </header>
        <div className="cm-dialog-body">{children}</div>
      </div>
    </div>
  )
}
