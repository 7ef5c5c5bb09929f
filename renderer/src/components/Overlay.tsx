import type { KeyboardEvent, ReactNode } from 'react'

interface Props {
  /** id of the heading that names the dialog. */
  labelledBy: string
  className?: string
  testId?: string
  onClose(): void
  onKeyDown?(event: KeyboardEvent): void
  children: ReactNode
}

/** A modal panel over the terminal: a click outside closes it, the dialog is labelled. */
export function Overlay({ labelledBy, className, testId, onClose, onKeyDown, children }: Props) {
  return (
    <div className="overlay" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
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
