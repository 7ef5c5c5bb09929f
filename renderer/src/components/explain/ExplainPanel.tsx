import { useEffect, useRef, useState } from 'react'
import type { CommandBreakdown, ShellDialect, Verdict } from '../../../../contract'
import { errorMessage, type Api } from '../../api/client'
import { partialStringField } from '../../lib/partial-json'
import { Overlay } from '../Overlay'
import { CommandView } from '../palette/CommandView'
import { VerdictBadge } from '../palette/VerdictBadge'

interface Props {
  api: Api
  command: string
  shell: ShellDialect
  onClose(): void
}

/**
 * What a command does: the parser's structural breakdown and the safety verdict at once, then
 * the model's plain-language explanation as it streams in.
 */
export function ExplainPanel({ api, command, shell, onClose }: Props) {
  const [breakdown, setBreakdown] = useState<CommandBreakdown | null>(null)
  const [verdict, setVerdict] = useState<Verdict | null>(null)
  const [explanation, setExplanation] = useState('')
  const [modelState, setModelState] = useState<'waiting' | 'streaming' | 'done' | 'unavailable'>(
    'waiting',
  )
  const [error, setError] = useState<string | null>(null)
  const raw = useRef('')

  useEffect(() => {
    const requestId = crypto.randomUUID()
    let live = true
    raw.current = ''
    api.call('safety:explain', { command, shell }).then(
      (b) => live && setBreakdown(b),
      (e: unknown) => live && setError(errorMessage(e)),
    )
    api.call('safety:check', { command, shell }).then(
      (v) => live && setVerdict(v),
      () => undefined,
    )
    const off = api.on('llm:token', ({ requestId: id, text }) => {
      if (id !== requestId || !live) return
      raw.current += text
      setModelState('streaming')
      setExplanation(partialStringField(raw.current, 'explanation') ?? '')
    })
    api
      .call('llm:explain', { command, shell, requestId })
      .then((r) => {
        if (!live) return
        setExplanation(r.explanation)
        setModelState('done')
      })
      .catch(() => live && setModelState('unavailable'))
    return () => {
      live = false
      off()
      void api.call('llm:cancel', { requestId }).catch(() => undefined)
    }
  }, [api, command, shell])

  return (
    <Overlay
      labelledBy="explain-title"
      className="explain-panel"
      testId="explain-panel"
      onClose={onClose}
      onKeyDown={(e) => {
        if (e.key !== 'Escape') return
        e.preventDefault()
        onClose()
      }}
    >
      <div className="panel-head">
        <h2 id="explain-title">What this command does</h2>
        <button onClick={onClose} aria-label="Close" autoFocus>
          Esc
        </button>
      </div>
      <div className="card-command">
        <CommandView command={command} reasons={verdict?.reasons} />
      </div>
      {verdict && (
        <p>
          <VerdictBadge risk={verdict.risk} />{' '}
          {verdict.reasons
            .filter((r) => r.risk !== 'safe')
            .map((r) => r.message)
            .join(' ')}
        </p>
      )}
      {error && <p role="alert">{error}</p>}
      {breakdown?.parseError && (
        <p className="card-warning">Could not fully parse: {breakdown.parseError}</p>
      )}
      {breakdown && (
        <table className="breakdown" aria-label="Structure of the command">
          <thead>
            <tr>
              <th scope="col">Program</th>
              <th scope="col">Flags</th>
              <th scope="col">Targets</th>
              <th scope="col">Through</th>
            </tr>
          </thead>
          <tbody>
            {breakdown.parts.map((part, i) => (
              <tr key={`${part.span.start}-${i}`}>
                <td>
                  {part.connector && <span className="muted">{part.connector} </span>}
                  <code>{part.program}</code>
                  {part.subcommand && <code> {part.subcommand}</code>}
                </td>
                <td>
                  <code>{part.flags.join(' ')}</code>
                </td>
                <td>
                  <code>{[...part.targets, ...part.redirects].join(' ')}</code>
                </td>
                <td className="muted">{part.via.join(' → ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <section aria-live="polite" className="explain-model" data-state={modelState}>
        <h3>In plain words</h3>
        {modelState === 'waiting' && <p className="muted">The model is reading the command…</p>}
        {modelState === 'unavailable' && (
          <p className="muted">
            No model is available yet; the breakdown above comes from the parser.
          </p>
        )}
        {(modelState === 'streaming' || modelState === 'done') && (
          <p data-testid="explain-text">
            {explanation || (modelState === 'done' ? 'The model gave no explanation.' : '')}
          </p>
        )}
      </section>
    </Overlay>
  )
}
