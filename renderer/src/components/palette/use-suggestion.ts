import { useCallback, useEffect, useRef, useState } from 'react'
import type { GenerateResult, ShellContext } from '../../../../contract'
import { errorMessage, type Api } from '../../api/client'
import { partialStringField } from '../../lib/partial-json'

export interface AiSuggestion {
  requestId: string
  request: string
  phase: 'thinking' | 'command' | 'done' | 'error'
  /** Characters of model output so far (for a steady progress hint, not shown raw). */
  streamedChars: number
  command: string | null
  explanation: string | null
  result: GenerateResult | null
  error: string | null
  errorCode: string | null
  /** The history row of this AI request, once recorded. */
  recordId: number | null
}

/**
 * One model request at a time: streams the command first (validated by main), then the
 * explanation, and records the request in history when it completes.
 */
export function useSuggestion(api: Api, ptyId: string | null) {
  const [ai, setAi] = useState<AiSuggestion | null>(null)
  const current = useRef<string | null>(null)
  const raw = useRef('')

  useEffect(() => {
    const offToken = api.on('llm:token', ({ requestId, text }) => {
      if (requestId !== current.current) return
      raw.current += text
      const explanation = partialStringField(raw.current, 'explanation')
      setAi((s) =>
        s && s.requestId === requestId
          ? { ...s, streamedChars: raw.current.length, explanation: explanation ?? s.explanation }
          : s,
      )
    })
    const offCommand = api.on('llm:command', ({ requestId, command }) => {
      if (requestId !== current.current) return
      setAi((s) => (s && s.requestId === requestId ? { ...s, phase: 'command', command } : s))
    })
    return () => {
      offToken()
      offCommand()
    }
  }, [api])

  const ask = useCallback(
    async (request: string, context: ShellContext) => {
      if (current.current)
        void api.call('llm:cancel', { requestId: current.current }).catch(() => undefined)
      const requestId = crypto.randomUUID()
      current.current = requestId
      raw.current = ''
      setAi({
        requestId,
        request,
        phase: 'thinking',
        streamedChars: 0,
        command: null,
        explanation: null,
        result: null,
        error: null,
        errorCode: null,
        recordId: null,
      })
      try {
        const result = await api.call('llm:generate', { request, requestId, context })
        if (current.current !== requestId) return
        setAi((s) =>
          s && s.requestId === requestId
            ? {
                ...s,
                phase: 'done',
                command: result.command,
                explanation: result.explanation,
                result,
              }
            : s,
        )
        const record = await api
          .call('history:recordAi', {
            request,
            model: result.model,
            backend: result.backend,
            timings: numericEntries(result.timings),
            proposedCommand: result.command,
            risk: result.verdict.risk,
            reasons: result.verdict.reasons.map(({ ruleId, risk, message }) => ({
              ruleId,
              risk,
              message,
            })),
            ...(ptyId ? { ptyId } : {}),
          })
          .catch(() => null)
        if (record)
          setAi((s) => (s && s.requestId === requestId ? { ...s, recordId: record.id } : s))
      } catch (err) {
        if (current.current !== requestId) return
        const code = (err as { code?: string }).code ?? null
        setAi((s) =>
          s && s.requestId === requestId
            ? { ...s, phase: 'error', error: errorMessage(err), errorCode: code }
            : s,
        )
      }
    },
    [api, ptyId],
  )

  const cancel = useCallback(() => {
    if (current.current)
      void api.call('llm:cancel', { requestId: current.current }).catch(() => undefined)
    current.current = null
  }, [api])

  return { ai, ask, cancel }
}

function numericEntries(values: object): Record<string, number> {
  return Object.fromEntries(
    Object.entries(values).filter(
      (entry): entry is [string, number] => typeof entry[1] === 'number',
    ),
  )
}
