import { useState } from 'react'
import type { FieldConflict, PatternEdit, Presence } from '../../../../contract'
import {
  templateParameterNames,
  type Pattern,
  type PatternParameter,
} from '../../../../contract/sync'
import { errorMessage, type Api } from '../../api/client'
import { ConflictMarker } from './ConflictMarker'
import { PresenceDots } from './PresenceDots'

interface Props {
  api: Api
  library: string
  /** The pattern as the document has it now (live), or null for a new one. */
  pattern: Pattern | null
  /** Starting values for a new pattern (duplicate, from history). */
  draft?: PatternEdit
  conflicts: FieldConflict[]
  peers: Presence[]
  onSaved(p: Pattern): void
  onCancel(): void
}

/**
 * Create or change a pattern. Parameters follow the template: a `{{name}}` typed in the command
 * gets a row; each row keeps its description, default and allowed values. A teammate's edit of
 * the same field shows as a marker with both values.
 */
export function PatternEditor({
  api,
  library,
  pattern,
  draft,
  conflicts,
  peers,
  onSaved,
  onCancel,
}: Props) {
  const start = pattern ?? draft
  const [title, setTitle] = useState(start?.title ?? '')
  const [description, setDescription] = useState(start?.description ?? '')
  const [command, setCommand] = useState(start?.command ?? '')
  const [tags, setTags] = useState((start?.tags ?? []).join(', '))
  const [params, setParams] = useState<PatternParameter[]>(
    () => (start?.parameters ?? []) as PatternParameter[],
  )
  const [error, setError] = useState<string | null>(null)
  const names = templateParameterNames(command)
  const rows = names.map((name) => params.find((p) => p.name === name) ?? { name, description: '' })
  const setParam = (name: string, patch: Partial<PatternParameter>) =>
    setParams((list) => [
      ...list.filter((p) => p.name !== name),
      { ...(rows.find((r) => r.name === name) ?? { name, description: '' }), ...patch },
    ])

  const save = async () => {
    setError(null)
    try {
      const saved = await api.call('library:save', {
        library,
        pattern: {
          ...(pattern ? { id: pattern.id } : {}),
          title: title.trim(),
          description,
          command,
          parameters: rows.map((r) => ({
            name: r.name,
            description: r.description,
            ...(r.default !== undefined && r.default !== '' ? { default: r.default } : {}),
            ...(r.allowed && r.allowed.length ? { allowed: r.allowed } : {}),
            ...(r.valuesFrom ? { valuesFrom: r.valuesFrom } : {}),
          })),
          tags: tags
            .split(',')
            .map((t) => t.trim())
            .filter(Boolean),
        },
      })
      onSaved(saved)
    } catch (err) {
      setError(errorMessage(err))
    }
  }

  const marker = (field: string) => {
    const c = pattern && conflicts.find((x) => x.patternId === pattern.id && x.field === field)
    return c ? <ConflictMarker api={api} conflict={c} /> : null
  }
  const editingPeers = pattern ? peers.filter((p) => p.patternId === pattern.id && p.editing) : []

  return (
    <form
      className="pattern-editor"
      data-testid="pattern-editor"
      onSubmit={(e) => {
        e.preventDefault()
        void save()
      }}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.preventDefault()
          e.stopPropagation()
          onCancel()
        } else if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
          e.preventDefault()
          void save()
        }
      }}
    >
      <h3>
        {pattern ? 'Edit pattern' : 'New pattern'}{' '}
        <PresenceDots peers={editingPeers} label="also editing" />
      </h3>
      <label>
        Title
        <input type="text" autoFocus value={title} onChange={(e) => setTitle(e.target.value)} />
      </label>
      {marker('title')}
      <label>
        Command{' '}
        <span className="muted">
          ({'{{name}}'} for parameters; values are quoted for the shell)
        </span>
        <textarea
          rows={2}
          spellCheck={false}
          value={command}
          onChange={(e) => setCommand(e.target.value)}
        />
      </label>
      {marker('command')}
      {rows.length > 0 && (
        <table className="param-table">
          <thead>
            <tr>
              <th>Parameter</th>
              <th>Description</th>
              <th>Default</th>
              <th>Allowed values (comma-separated)</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.name}>
                <td>
                  <code>{r.name}</code>
                </td>
                <td>
                  <input
                    type="text"
                    aria-label={`${r.name} description`}
                    value={r.description}
                    onChange={(e) => setParam(r.name, { description: e.target.value })}
                  />
                </td>
                <td>
                  <input
                    type="text"
                    aria-label={`${r.name} default`}
                    value={r.default ?? ''}
                    onChange={(e) => setParam(r.name, { default: e.target.value })}
                  />
                </td>
                <td>
                  <input
                    type="text"
                    aria-label={`${r.name} allowed values`}
                    value={(r.allowed ?? []).join(', ')}
                    onChange={(e) =>
                      setParam(r.name, {
                        allowed: e.target.value
                          .split(',')
                          .map((v) => v.trim())
                          .filter(Boolean),
                      })
                    }
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {marker('parameters')}
      <label>
        Description
        <textarea rows={2} value={description} onChange={(e) => setDescription(e.target.value)} />
      </label>
      {marker('description')}
      <label>
        Tags <span className="muted">(comma-separated; e.g. production)</span>
        <input type="text" value={tags} onChange={(e) => setTags(e.target.value)} />
      </label>
      {marker('tags')}
      {error && (
        <p className="palette-notice" role="alert">
          {error}
        </p>
      )}
      <div className="card-actions">
        <button type="submit" className="primary" disabled={!title.trim() || !command.trim()}>
          Save (Ctrl+Enter)
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  )
}
