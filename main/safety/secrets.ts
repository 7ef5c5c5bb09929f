import type { RedactionResult, SecretFinding } from '../../contract/safety'

/**
 * Secret detection by pattern, hand-rolled after the public gitleaks/secretlint rule sets: the
 * formats are stable, documented prefixes (AKIA, ghp_, xoxb-, sk-ant-...), and a dependency-free
 * module keeps redaction cheap enough to run on every history entry and model prompt.
 * Each pattern's `group` is the capture that holds the secret (0 = the whole match).
 */
interface SecretPattern {
  kind: string
  re: RegExp
  group: number
  /** Extra check on the captured value (entropy, digits only...). */
  accept?: (value: string, match: RegExpExecArray, text: string) => boolean
}

const PATTERNS: SecretPattern[] = [
  {
    kind: 'private-key',
    re: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|$)/g,
    group: 0,
  },
  { kind: 'aws-access-key', re: /\b(?:AKIA|ASIA|ABIA|ACCA|AROA|AIDA)[0-9A-Z]{16}\b/g, group: 0 },
  {
    kind: 'aws-secret-key',
    re: /\b(?:aws_?secret_?(?:access_?)?key|secret_?access_?key)\b["']?\s*[=:]\s*["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/gi,
    group: 1,
  },
  { kind: 'github-token', re: /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}\b/g, group: 0 },
  { kind: 'github-token', re: /\bgithub_pat_[A-Za-z0-9_]{22,255}\b/g, group: 0 },
  { kind: 'gitlab-token', re: /\bgl(?:pat|dt|rt|ptt|cbt|soat)-[A-Za-z0-9_-]{20,}\b/g, group: 0 },
  { kind: 'slack-token', re: /\bxox[abposre]-[A-Za-z0-9-]{10,}\b/g, group: 0 },
  {
    kind: 'slack-webhook',
    re: /https:\/\/hooks\.slack\.com\/(?:services|workflows)\/[A-Za-z0-9/_-]{20,}/g,
    group: 0,
  },
  { kind: 'anthropic-key', re: /\bsk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_-]{20,}/g, group: 0 },
  {
    kind: 'openai-key',
    re: /\bsk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}(?:T3BlbkFJ[A-Za-z0-9_-]{20,})?/g,
    group: 0,
  },
  { kind: 'stripe-key', re: /\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}\b/g, group: 0 },
  { kind: 'stripe-webhook-secret', re: /\bwhsec_[A-Za-z0-9]{24,}\b/g, group: 0 },
  { kind: 'google-api-key', re: /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g, group: 0 },
  { kind: 'google-oauth-token', re: /\bya29\.[0-9A-Za-z_-]{20,}/g, group: 0 },
  { kind: 'jwt', re: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, group: 0 },
  { kind: 'npm-token', re: /\bnpm_[A-Za-z0-9]{36}\b/g, group: 0 },
  { kind: 'pypi-token', re: /\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}/g, group: 0 },
  { kind: 'huggingface-token', re: /\bhf_[A-Za-z0-9]{30,}\b/g, group: 0 },
  { kind: 'sendgrid-key', re: /\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b/g, group: 0 },
  { kind: 'digitalocean-token', re: /\bdo[opr]_v1_[a-f0-9]{64}\b/g, group: 0 },
  { kind: 'twilio-key', re: /\bSK[0-9a-f]{32}\b/g, group: 0 },
  { kind: 'azure-storage-key', re: /\bAccountKey=([A-Za-z0-9+/=]{40,})/g, group: 1 },
  {
    kind: 'url-password',
    re: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/]+:([^\s@/]+)@/gi,
    group: 1,
    accept: (v) => !/^\$|^\{\{|^<.*>$|^\*+$/.test(v),
  },
  {
    kind: 'auth-header',
    re: /\b(?:Authorization|Proxy-Authorization|X-Api-Key|X-Auth-Token|Private-Token)\s*:\s*(?:Bearer\s+|Basic\s+|token\s+)?([A-Za-z0-9._~+/=-]{8,})/gi,
    group: 1,
  },
  {
    kind: 'basic-auth',
    re: /(?:^|\s)(?:-u|--user)[=\s]+["']?[^\s:'"]+:([^\s'"]+)/g,
    group: 1,
    accept: (v) => !v.startsWith('$'),
  },
  {
    kind: 'password-flag',
    re: /(?:^|\s)--?(?:password|passwd|pass|token|api-key|apikey|api-token|secret|client-secret|auth-token|access-token|private-key)(?:=|\s+)(["']?)([^\s"']{3,})\1/gi,
    group: 2,
    accept: (v) => !/^\$|^-/.test(v),
  },
  {
    kind: 'password-flag',
    re: /(?:^|\s)-p(["']?)([^\s"']{3,})\1/g,
    group: 2,
    accept: (v, _m, text) =>
      /\b(mysql|mariadb|mysqldump|mysqladmin)\b/.test(text) && !/^\d+$|^\$/.test(v),
  },
  { kind: 'sshpass', re: /\bsshpass\s+-p\s*(["']?)([^\s"']+)\1/g, group: 2 },
  {
    kind: 'secret-assignment',
    // The value stops at shell operators too, so `PASSWORD=x; next` keeps its `;`.
    re: /\b([A-Za-z_][A-Za-z0-9_]*?(?:PASSWORD|PASSWD|PASS|PWD))\s*[=:]\s*(["']?)([^\s"'$`;&|<>()]{4,})\2/gi,
    group: 3,
    accept: (v) => !/^(true|false|null|none|\*+|x+|<.*>|\{\{.*\}\})$/i.test(v),
  },
  {
    kind: 'secret-assignment',
    re: /\b([A-Za-z_][A-Za-z0-9_]*?(?:TOKEN|SECRET|KEY|CREDENTIALS?|AUTH|APIKEY|API_KEY))\s*[=:]\s*(["']?)([^\s"'$`;&|<>()]{8,})\2/gi,
    group: 3,
    accept: (v) => entropy(v) >= 2.5 && /[0-9]/.test(v) && /[A-Za-z]/.test(v),
  },
]

/** Shannon entropy in bits per character. */
export function entropy(s: string): number {
  const counts = new Map<string, number>()
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1)
  let h = 0
  for (const n of counts.values()) {
    const p = n / s.length
    h -= p * Math.log2(p)
  }
  return h
}

/** Finds secrets in a text; findings are sorted and never overlap. */
export function findSecrets(text: string): SecretFinding[] {
  const found: SecretFinding[] = []
  for (const p of PATTERNS) {
    p.re.lastIndex = 0
    let m: RegExpExecArray | null
    while ((m = p.re.exec(text))) {
      if (m[0].length === 0) {
        p.re.lastIndex++
        continue
      }
      const value = m[p.group]
      if (value === undefined || value === '') continue
      if (p.accept && !p.accept(value, m, text)) continue
      const start = m.index + (p.group === 0 ? 0 : m[0].lastIndexOf(value))
      found.push({ kind: p.kind, start, end: start + value.length })
    }
  }
  found.sort((a, b) => a.start - b.start || b.end - a.end)
  const merged: SecretFinding[] = []
  for (const f of found) {
    const last = merged[merged.length - 1]
    if (last && f.start < last.end) {
      last.end = Math.max(last.end, f.end)
      continue
    }
    merged.push({ ...f })
  }
  return merged
}

/**
 * Replaces every secret with `[REDACTED:kind]`. Findings carry offsets into the ORIGINAL text.
 * Called before anything is stored, synced, audited or sent to a model.
 */
export function redactSecrets(text: string): RedactionResult {
  const findings = findSecrets(text)
  if (!findings.length) return { text, findings }
  let out = ''
  let pos = 0
  for (const f of findings) {
    out += text.slice(pos, f.start) + `[REDACTED:${f.kind}]`
    pos = f.end
  }
  return { text: out + text.slice(pos), findings }
}
