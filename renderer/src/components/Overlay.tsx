import { useRef, type KeyboardEvent, type ReactNode } from 'react'
import { useModalFocus } from '../hooks/use-modal-focus'

interface Props {
  /** id of the heading that names the dialog. */
  labelledBy: string
  className?: string
  testId?: string
  onClose(): void
  onKeyDown?(event: KeyboardEvent): void
  children: ReactNode
}

/**
 * A modal panel over the terminal: a click outside closes it, the dialog is labelled, Tab stays
 * inside, and the keyboard goes back to the terminal when it closes.
 */
export function Overlay({ labelledBy, className, testId, onClose, onKeyDown, children }: Props) {
  const ref = useRef<HTMLDivElement>(null)
  useModalFocus(ref, onClose)
  return (
    <div className="overlay" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        ref={ref}
        className={`palette ${className ?? ''}`}
        role="dialog"
        aria-modal="true"
        aria-labelledby={labelledBy}
        onKeyDown={onKeyDown}
        tabIndex={-1}
        data-testid={testId}
      >
        {children}
      </div>
    </div>
  )
}
