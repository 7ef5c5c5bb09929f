import { useState } from 'react'
import type { FieldConflict } from '../../../../contract'
import { errorMessage, type Api } from '../../api/client'

const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v))

/** A teammate changed the same field meanwhile: both values, and a choice. */
export function ConflictMarker({ api, conflict }: { api: Api; conflict: FieldConflict }) {
  const [error, setError] = useState<string | null>(null)
  const keep = (which: 'mine' | 'theirs') =>
    api
      .call('library:resolveConflict', {
        library: conflict.library,
        patternId: conflict.patternId,
        field: conflict.field,
        keep: which,
      })
      .catch((err: unknown) => setError(errorMessage(err)))
  return (
    <div className="conflict-marker" role="alert" data-testid="conflict-marker">
      <p>
        <strong>{conflict.by ?? 'A teammate'}</strong> changed <em>{conflict.field}</em> at the same
        time as you. The library kept {conflict.kept === 'mine' ? 'yours' : 'theirs'}.
      </p>
      <dl>
        <dt>Yours</dt>
        <dd>
          <code>{show(conflict.mine)}</code>
        </dd>
        <dt>Theirs</dt>
        <dd>
          <code>{show(conflict.theirs)}</code>
        </dd>
      </dl>
      <button type="button" onClick={() => void keep('mine')}>
        Keep mine
      </button>{' '}
      <button type="button" onClick={() => void keep('theirs')}>
        Keep theirs
      </button>
      {error && <span className="param-error"> {error}</span>}
    </div>
  )
}
