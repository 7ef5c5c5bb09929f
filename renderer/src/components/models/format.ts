import type { CatalogModel } from '../../../../contract/llm'

/** Decimal units, like the sizes model hosts publish. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '–'
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(0)} kB`
  return `${bytes} B`
}

export function formatSpeed(bytesPerSecond: number): string {
  if (!Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) return '– MB/s'
  return `${(bytesPerSecond / 1e6).toFixed(1)} MB/s`
}

/** `m:ss` under an hour, `h:mm:ss` above; a dash while unknown. */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '–:––'
  const total = Math.round(seconds)
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = String(total % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`
}

export function formatGb(gb: number): string {
  return `${Number.isInteger(gb) ? gb : gb.toFixed(1)} GB`
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–'
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`
}

/** 0-100, or null when the size is not known yet. */
export function percentOf(bytes: number, totalBytes: number): number | null {
  if (!(totalBytes > 0)) return null
  return Math.min(100, Math.max(0, (bytes / totalBytes) * 100))
}

/** Whether a model's RAM need fits this machine, as a short hint. */
export function ramFit(model: CatalogModel, totalMemoryGb: number | null): string | null {
  if (totalMemoryGb === null) return null
  return model.ramGb <= totalMemoryGb ? 'fits this machine' : `needs ${formatGb(model.ramGb)} RAM`
}
