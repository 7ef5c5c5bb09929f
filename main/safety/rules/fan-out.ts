import type { CommandView } from '../rule'
import { RISK_ORDER, type Arg, type Risk } from '../types'

const RAISE: Record<Risk, Risk> = {
  safe: 'safe',
  moderate: 'high',
  high: 'critical',
  critical: 'critical',
}

/**
 * A destructive operation over every resource a listing returned (`aws … describe … | xargs aws
 * … terminate`, `$(gcloud … list)`, a loop over one) acts on all of them: one level worse than
 * the same operation on one resource. A narrowed listing (grep, filters) is rated as it is.
 * `ephemeral` resources (pods, recreated by their controllers) are not raised.
 */
export function emitFanOut(
  c: CommandView,
  ruleId: string,
  risk: Risk,
  message: string,
  at: Arg | null,
  ephemeral = false,
): void {
  const fan = c.fanOut()
  if (fan === 'all' && !ephemeral && RISK_ORDER[risk] >= RISK_ORDER.moderate) {
    c.emit(
      `${ruleId}.fan-out`,
      RAISE[risk],
      `${message} for every resource the listing returns`,
      at,
      {
        prod: true,
      },
    )
    return
  }
  c.emit(ruleId, risk, fan ? `${message} for each resource listed` : message, at, { prod: true })
}
