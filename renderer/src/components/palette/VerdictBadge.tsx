import type { Risk } from '../../../../contract'

const LABELS: Record<Risk, string> = {
  safe: 'Safe',
  moderate: 'Moderate',
  high: 'High risk',
  critical: 'Critical',
}
const ICONS: Record<Risk, string> = { safe: '✓', moderate: '●', high: '▲', critical: '✖' }

/** Colour and words (never colour alone) for a risk level. */
export function VerdictBadge({ risk }: { risk: Risk }) {
  return (
    <span className={`verdict-badge risk-${risk}`} data-risk={risk}>
      <span aria-hidden="true">{ICONS[risk]}</span> {LABELS[risk]}
    </span>
  )
}
