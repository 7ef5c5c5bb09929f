import { formatBytes, formatEta, formatSpeed, percentOf } from './format'
import type { DownloadEntry } from './use-downloads'

interface Props {
  entry: DownloadEntry
  /** The model's name, for the labels of the bar and buttons. */
  name: string
  /** Size to show until the server reports the real one (the catalog's figure). */
  expectedBytes?: number
  onPause(): void
  onResume(): void
  onCancel(): void
  /** One line (first-run card) rather than the full bar with speed and ETA. */
  compact?: boolean
}

const STATE_WORDS = {
  checking: 'Connecting',
  downloading: 'Downloading',
  verifying: 'Verifying',
  done: 'Done',
  error: 'Failed',
  cancelled: 'Stopped',
} as const

export const RESUME_HINT =
  'Pausing keeps the partial file in the models folder; Resume asks for the same file again and the downloader continues from where it stopped.'

/** A download's progress: bytes, percentage, speed, ETA and its controls. Numbers keep their width. */
export function DownloadBar({ entry, name, expectedBytes, compact, ...actions }: Props) {
  const progress = entry.progress
  const bytes = progress?.bytes ?? 0
  const total = progress && progress.totalBytes > 0 ? progress.totalBytes : (expectedBytes ?? 0)
  const percent = percentOf(bytes, total)
  const state =
    entry.status === 'paused'
      ? 'Paused'
      : entry.status === 'error'
        ? 'Failed'
        : STATE_WORDS[progress?.state ?? 'checking']
  const speed = entry.status === 'running' ? formatSpeed(progress?.bytesPerSecond ?? 0) : '– MB/s'
  const eta = entry.status === 'running' ? formatEta(progress?.etaSeconds ?? null) : '–:––'
  const percentText = percent === null ? '–' : `${percent.toFixed(0)}%`
  return (
    <div
      className={`cm-download${compact ? ' cm-download-compact' : ''}`}
      data-status={entry.status}
    >
      <div
        className="cm-bar"
        role="progressbar"
        aria-label={`Download of ${name}`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent === null ? undefined : Math.round(percent)}
        aria-valuetext={`${state}: ${formatBytes(bytes)} of ${formatBytes(total)}`}
      >
        <div className="cm-bar-fill" style={{ width: `${percent ?? 0}%` }} />
      </div>
      <div className="cm-download-line">
        <span className="cm-download-state">{state}</span>
        <span className="cm-num cm-num-pct">{percentText}</span>
        <span className="cm-num cm-num-bytes">
          {formatBytes(bytes)} / {formatBytes(total)}
        </span>
        {!compact && (
          <>
            <span className="cm-num cm-num-speed" aria-label="Speed">
              {speed}
            </span>
            <span className="cm-num cm-num-eta" aria-label="Time left">
              ETA {eta}
            </span>
          </>
        )}
        <span className="cm-download-actions">
          {entry.status === 'running' ? (
            <button
              type="button"
              onClick={actions.onPause}
              title={RESUME_HINT}
              aria-label={`Pause download of ${name}`}
            >
              Pause
            </button>
          ) : (
            <button
              type="button"
              onClick={actions.onResume}
              title={RESUME_HINT}
              aria-label={`${entry.status === 'error' ? 'Retry' : 'Resume'} download of ${name}`}
            >
              {entry.status === 'error' ? 'Retry' : 'Resume'}
            </button>
          )}
          <button
            type="button"
            onClick={actions.onCancel}
            aria-label={`Cancel download of ${name}`}
            title="Stop this download. The partial file stays in the models folder, so a later download of the same model resumes it."
          >
            Cancel
          </button>
        </span>
      </div>
      {/* Where it comes from, always: a failed download says which address failed. */}
      <code className="cm-download-uri" title={entry.uri} data-testid="download-uri">
        {entry.uri}
      </code>
      {entry.error && (
        <p className="cm-error" role="alert">
          {entry.error}
        </p>
      )}
    </div>
  )
}
