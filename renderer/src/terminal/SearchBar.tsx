import { useEffect, useRef, useState } from 'react'
import { checkSearchPattern } from './search-pattern'
import type { SearchResults, TerminalView } from './terminal-view'

interface Props {
  view: TerminalView
  onClose(): void
}

/**
 * Find in the terminal's screen and scrollback: Enter / Shift+Enter for next and previous, case
 * and regular-expression toggles, the match count, Esc to close and return to the shell.
 */
export function SearchBar({ view, onClose }: Props) {
  const input = useRef<HTMLInputElement>(null)
  const [term, setTerm] = useState('')
  const [caseSensitive, setCaseSensitive] = useState(false)
  const [regex, setRegex] = useState(false)
  const [results, setResults] = useState<SearchResults | null>(null)
  const problem = checkSearchPattern(term, regex)

  useEffect(() => {
    input.current?.focus()
    input.current?.select()
  }, [])

  useEffect(() => view.onSearchResults(setResults), [view])

  // Searching as the text or the toggles change (incremental, from the current match).
  useEffect(() => {
    if (!term || problem) {
      view.clearSearch()
      return
    }
    view.find(term, { caseSensitive, regex })
  }, [view, term, caseSensitive, regex, problem])

  useEffect(() => () => view.clearSearch(), [view])

  const step = (back: boolean) => {
    if (term && !problem) view.find(term, { caseSensitive, regex }, back)
  }

  const onKey = (event: React.KeyboardEvent) => {
    if (event.key === 'Escape') {
      event.preventDefault()
      onClose()
    } else if (event.key === 'Enter') {
      event.preventDefault()
      step(event.shiftKey)
    }
  }

  let count = ''
  if (problem) count = problem
  else if (term && results) {
    // Results of an earlier search text are not shown: the addon reports again for this one.
    count =
      results.count === 0
        ? 'No results'
        : results.index >= 0
          ? `${results.index + 1} of ${results.count}`
          : `${results.count}+ results`
  }

  return (
    <div className="terminal-search" role="search" aria-label="Find in terminal" onKeyDown={onKey}>
      <input
        ref={input}
        type="text"
        value={term}
        aria-label="Find"
        placeholder="Find"
        spellCheck={false}
        aria-invalid={problem ? true : undefined}
        onChange={(event) => setTerm(event.target.value)}
      />
      <button
        type="button"
        aria-label="Match case"
        title="Match case"
        aria-pressed={caseSensitive}
        onClick={() => setCaseSensitive((v) => !v)}
      >
        Aa
      </button>
      <button
        type="button"
        aria-label="Regular expression"
        title="Regular expression"
        aria-pressed={regex}
        onClick={() => setRegex((v) => !v)}
      >
        .*
      </button>
      <span className="terminal-search-count" role="status" data-testid="search-count">
        {count}
      </span>
      <button
        type="button"
        aria-label="Previous match"
        title="Previous (Shift+Enter)"
        onClick={() => step(true)}
      >
        ↑
      </button>
      <button
        type="button"
        aria-label="Next match"
        title="Next (Enter)"
        onClick={() => step(false)}
      >
        ↓
      </button>
      <button type="button" aria-label="Close search" title="Close (Esc)" onClick={onClose}>
        ×
      </button>
    </div>
  )
}
