import { useId, useState, type ReactNode } from 'react'

interface Common {
  label: string
  /** The server's (or the form's) message for the last attempt; shown under the field. */
  error?: string
  hint?: ReactNode
}

function Message({ id, error, hint }: { id: string; error?: string; hint?: ReactNode }) {
  return (
    <>
      {hint && (
        <span id={`${id}-hint`} className="cm-hint">
          {hint}
        </span>
      )}
      {error && (
        <span id={`${id}-error`} className="cm-error" role="alert">
          {error}
        </span>
      )}
    </>
  )
}

function describedBy(id: string, error?: string, hint?: ReactNode): string | undefined {
  const ids = [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean)
  return ids.length > 0 ? ids.join(' ') : undefined
}

interface TextProps extends Common {
  value: string
  /** Called on blur or Enter when the text differs from the saved value. */
  onCommit(text: string): void
  placeholder?: string
  inputMode?: 'numeric' | 'text'
  mono?: boolean
}

/**
 * A text field that saves when it loses focus or on Enter. Render it with `key={value}` so that a
 * value saved elsewhere replaces the draft, while a refused draft stays for the user to fix.
 */
export function TextSetting(props: TextProps) {
  const id = useId()
  const [draft, setDraft] = useState(props.value)
  // A new saved value replaces the draft without remounting the input, so focus stays put.
  const [saved, setSaved] = useState(props.value)
  if (props.value !== saved) {
    setSaved(props.value)
    setDraft(props.value)
  }
  const commit = () => {
    if (draft !== props.value) props.onCommit(draft)
  }
  return (
    <div className="cm-field">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        type="text"
        className={props.mono ? 'cm-mono' : undefined}
        value={draft}
        placeholder={props.placeholder}
        inputMode={props.inputMode}
        spellCheck={false}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={describedBy(id, props.error, props.hint)}
        onChange={(e) => setDraft(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            e.preventDefault()
            commit()
          }
        }}
      />
      <Message id={id} error={props.error} hint={props.hint} />
    </div>
  )
}

interface SelectProps<T extends string> extends Common {
  value: T
  options: ReadonlyArray<{ value: T; label: string }>
  onChange(value: T): void
}

export function SelectSetting<T extends string>(props: SelectProps<T>) {
  const id = useId()
  return (
    <div className="cm-field">
      <label htmlFor={id}>{props.label}</label>
      <select
        id={id}
        value={props.value}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={describedBy(id, props.error, props.hint)}
        onChange={(e) => props.onChange(e.target.value as T)}
      >
        {props.options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      <Message id={id} error={props.error} hint={props.hint} />
    </div>
  )
}

interface CheckboxProps extends Common {
  checked: boolean
  onChange(checked: boolean): void
  disabled?: boolean
}

export function CheckboxSetting(props: CheckboxProps) {
  const id = useId()
  return (
    <div className="cm-field cm-field-check">
      <input
        id={id}
        type="checkbox"
        checked={props.checked}
        disabled={props.disabled}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={describedBy(id, props.error, props.hint)}
        onChange={(e) => props.onChange(e.target.checked)}
      />
      <label htmlFor={id}>{props.label}</label>
      <Message id={id} error={props.error} hint={props.hint} />
    </div>
  )
}

interface RadioProps<T extends string> extends Common {
  name: string
  value: T
  options: ReadonlyArray<{ value: T; label: string; description: string }>
  onChange(value: T): void
}

export function RadioSetting<T extends string>(props: RadioProps<T>) {
  const id = useId()
  return (
    <fieldset className="cm-fieldset" aria-describedby={describedBy(id, props.error, props.hint)}>
      <legend>{props.label}</legend>
      {props.options.map((o) => (
        <label key={o.value} className="cm-choice">
          <input
            type="radio"
            name={props.name}
            value={o.value}
            checked={props.value === o.value}
            onChange={() => props.onChange(o.value)}
          />
          <span>
            <strong>{o.label}</strong> <span className="cm-muted">{o.description}</span>
          </span>
        </label>
      ))}
      <Message id={id} error={props.error} hint={props.hint} />
    </fieldset>
  )
}
