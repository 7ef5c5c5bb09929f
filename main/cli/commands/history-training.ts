import { InvalidArgumentError } from 'commander'
import { readPackageVersion, resolveDataDir } from '../../config/paths'

export interface TrainingExportCliOptions {
  since?: number
  until?: number
  /** `--preview` alone is true: the default number of examples. */
  preview?: number | true
  onlySucceeded?: boolean
}

const DEFAULT_PREVIEW = 5

/** `--preview [n]`: how many examples to show. */
export function parsePreview(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > 10_000)
    throw new InvalidArgumentError(`Not a number of examples from 1 to 10000: ${value}`)
  return n
}

/**
 * `cmdai history export --format training`: JSON lines on stdout, a summary on stderr. Refused
 * unless privacy.trainingExport is on; `--preview [n]` prints the first n lines exactly as the
 * export would write them, consent or not, so the user can decide.
 */
export async function exportTrainingData(options: TrainingExportCliOptions): Promise<void> {
  const [{ withHistory }, { exportTraining }, { readPrivacySettings, settingsPath }] =
    await Promise.all([
      import('../../control/history-access'),
      import('../../history/training-export'),
      import('../../llm/settings'),
    ])
  const dataDir = resolveDataDir()
  const consented = readPrivacySettings(dataDir).trainingExport
  const preview =
    options.preview === undefined
      ? undefined
      : options.preview === true
        ? DEFAULT_PREVIEW
        : options.preview
  await withHistory(dataDir, { name: 'cmdai-cli', version: readPackageVersion() }, async (h) => {
    if (!h.store) {
      throw new Error(
        'The running cmdai app holds the history database: close the app (or stop `cmdai serve`) ' +
          'and run this again',
      )
    }
    const result = await exportTraining(h.store, write, {
      consented,
      preview,
      since: options.since,
      until: options.until,
      onlySucceeded: options.onlySucceeded,
      settingsFile: settingsPath(dataDir),
    })
    const counts = `${result.byLabel.accepted} accepted, ${result.byLabel.corrected} corrected, ${result.byLabel.rejected} rejected (negatives)`
    process.stderr.write(
      preview === undefined
        ? `Wrote ${result.written} training examples: ${counts}.\n`
        : `Preview: the first ${result.written} examples the export writes (${counts}); nothing was saved.` +
            (consented
              ? '\n'
              : ` Training export is off: turn it on in Settings → Privacy (or ${settingsPath(dataDir)}).\n`),
    )
  })
}

function write(chunk: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(chunk, (err) => (err ? reject(err) : resolve()))
  })
}
