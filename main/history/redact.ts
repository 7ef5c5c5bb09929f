import { redactSecrets } from '../safety'

/**
 * Secrets never reach the history database: every text goes through this before it is written.
 * The safety engine's `redactSecrets` does the work; a few extra patterns run after it as a
 * second net (e.g. short `API_KEY=...` values it leaves alone), skipping what it already redacted.
 */
const PATTERNS: RegExp[] = [
  /\b(AKIA[0-9A-Z]{16})\b/g,
  /\b(gh[pousr]_[A-Za-z0-9]{30,})\b/g,
  /\b(sk-[A-Za-z0-9_-]{20,})\b/g,
  /\b(xox[abposr]-[A-Za-z0-9-]{10,})\b/g,
]
const ASSIGNMENT =
  /\b([A-Za-z_]*(?:PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY)[A-Za-z_]*)=(?!\[REDACTED)("[^"]*"|'[^']*'|[^\s;&|]+)/gi
const BEARER = /\b(Bearer\s+)(?!\[REDACTED)[A-Za-z0-9._~+/=-]{8,}/gi
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:)[^@\s/]+@/gi

export function redactForHistory(text: string): string {
  let out = redactSecrets(text).text
  for (const pattern of PATTERNS) out = out.replace(pattern, '[REDACTED]')
  out = out.replace(ASSIGNMENT, (_, name: string) => `${name}=[REDACTED]`)
  out = out.replace(BEARER, (_, prefix: string) => `${prefix}[REDACTED]`)
  out = out.replace(URL_PASSWORD, (_, prefix: string) => `${prefix}[REDACTED]@`)
  return out
}
