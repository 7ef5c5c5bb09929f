import type { RedactionResult, SecretFinding } from '../../contract/safety'

/**
 * Secret detection by pattern, hand-rolled after the public gitleaks/secretlint rule sets: the
 * formats are stable, documented prefixes (AKIA, ghp_, xoxb-, sk-ant-...), plus the places a
 * command line puts a password (`--password`, `-p` of mysql and docker login, `redis-cli -a`,
 * `PASSWORD=…`, JSON `"password": …`, URLs, `htpasswd -b`, `openssl -k`, `vault login`).
 *
 * Linear time: every pattern may start only where a token begins (a lookbehind on the token's
 * own characters rather than `\b`), and every unbounded repetition stops at a character the next
 * part needs, so a megabyte of `eyJ-eyJ-…` or `--password="` costs one pass per pattern.
 * Each pattern's `group` is the capture that holds the secret (0 = the whole match).
 */
interface SecretPattern {
  kind: string
  re: RegExp
  group: number
  /** Extra check on the captured value (entropy, placeholders...). */
  accept?: (value: string, match: RegExpExecArray) => boolean
}

/**
 * A value quoted with `"` or `'` (no newline) or a bare word; capture 2 or 3 or 4 holds it. A bare
 * word ends at a `\n`, `\r` or `\t` escape: in `printf 'a = x\nb = y'` each value stands alone.
 */
const VALUE = `(?:"([^"\\n]*)"|'([^'\\n]*)'|((?:[^\\s"'\`;&|<>()\\\\]|\\\\(?![nrt]))+))`

/**
 * Where a name or token may start: not inside a word, except right after a `\n`, `\r` or `\t`
 * escape (`printf '[default]\naws_secret_access_key = …'`), whose letter is no part of the name.
 */
function wordStart(wordChars = 'A-Za-z0-9_'): string {
  return `(?<![${wordChars}](?<!\\\\[nrt]))`
}

/**
 * Provider tokens with a documented prefix and shape: kind, pattern, and the token's alphabet
 * (the token may neither start nor end inside a run of it).
 */
const PROVIDER_TOKENS: Array<[string, string, string]> = [
  ['sentry-token', 'sntrys_eyJ[A-Za-z0-9+/=_]{30,}', 'A-Za-z0-9+/=_'],
  ['sentry-token', 'sntryu_[a-f0-9]{64}', 'A-Za-z0-9_'],
  ['shopify-token', 'shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}', 'A-Za-z0-9_'],
  ['mailgun-key', 'key-[a-f0-9]{32}', 'A-Za-z0-9_-'],
  ['databricks-token', 'dapi[a-f0-9]{32}(?:-\\d+)?', 'A-Za-z0-9_-'],
  ['azure-client-secret', '[A-Za-z0-9_~.]{3}\\dQ~[A-Za-z0-9_~.-]{31,34}', 'A-Za-z0-9_~.-'],
  ['huggingface-token', 'api_org_[A-Za-z]{34}', 'A-Za-z0-9_'],
  ['dockerhub-token', 'dckr_(?:pat|oat)_[A-Za-z0-9_-]{27,}', 'A-Za-z0-9_-'],
  ['grafana-token', 'glc_[A-Za-z0-9+/]{32,}={0,2}', 'A-Za-z0-9+/=_'],
  ['grafana-token', 'glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}', 'A-Za-z0-9_'],
  ['postman-key', 'PMAK-[a-f0-9]{24}-[a-f0-9]{34}', 'A-Za-z0-9_-'],
  ['newrelic-key', 'NRAK-[A-Z0-9]{27}', 'A-Za-z0-9_-'],
  ['linear-key', 'lin_api_[A-Za-z0-9]{40}', 'A-Za-z0-9_'],
  ['doppler-token', 'dp\\.(?:pt|st|ct|sa|scim|audit)\\.[A-Za-z0-9]{40,44}', 'A-Za-z0-9_.'],
  ['atlassian-token', 'ATATT3[A-Za-z0-9_=-]{50,}', 'A-Za-z0-9_=-'],
  ['bitbucket-app-password', 'ATBB[A-Za-z0-9]{32}', 'A-Za-z0-9_'],
  ['tailscale-key', 'tskey-[a-z]+-[A-Za-z0-9]{6,}-[A-Za-z0-9]{20,}', 'A-Za-z0-9_-'],
  ['age-secret-key', 'AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}', 'A-Za-z0-9_-'],
  ['supabase-token', 'sbp_[a-f0-9]{40}', 'A-Za-z0-9_'],
  ['groq-key', 'gsk_[A-Za-z0-9]{52}', 'A-Za-z0-9_'],
  ['replicate-token', 'r8_[A-Za-z0-9]{37}', 'A-Za-z0-9_'],
  ['xai-key', 'xai-[A-Za-z0-9]{80}', 'A-Za-z0-9_-'],
  ['perplexity-key', 'pplx-[A-Za-z0-9]{48}', 'A-Za-z0-9_-'],
  ['square-token', 'sq0(?:atp|csp)-[A-Za-z0-9_-]{22,43}|EAAA[A-Za-z0-9_-]{60}', 'A-Za-z0-9_-'],
  ['google-oauth-secret', 'GOCSPX-[A-Za-z0-9_-]{28}', 'A-Za-z0-9_-'],
  ['mapbox-token', 'sk\\.eyJ[A-Za-z0-9_-]{50,}\\.[A-Za-z0-9_-]{20,}', 'A-Za-z0-9_.-'],
  ['brevo-key', 'xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}', 'A-Za-z0-9_-'],
  ['airtable-token', 'pat[A-Za-z0-9]{14}\\.[a-f0-9]{64}', 'A-Za-z0-9_.'],
  ['figma-token', 'figd_[A-Za-z0-9_-]{40}', 'A-Za-z0-9_-'],
  ['jfrog-token', 'AKCp[A-Za-z0-9]{69}', 'A-Za-z0-9_'],
  ['rubygems-key', 'rubygems_[a-f0-9]{48}', 'A-Za-z0-9_'],
  ['nuget-key', 'oy2[a-z0-9]{43}', 'A-Za-z0-9_'],
  ['crates-token', 'cio[A-Za-z0-9]{32}', 'A-Za-z0-9_'],
  ['pulumi-token', 'pul-[a-f0-9]{40}', 'A-Za-z0-9_-'],
  ['terraform-token', '[A-Za-z0-9]{14}\\.atlasv1\\.[A-Za-z0-9_=-]{60,70}', 'A-Za-z0-9_=.-'],
  ['1password-token', 'ops_eyJ[A-Za-z0-9+/=]{100,}', 'A-Za-z0-9+/=_'],
  ['planetscale-token', 'pscale_(?:tkn|oauth|pw)_[A-Za-z0-9_.=-]{32,64}', 'A-Za-z0-9_.=-'],
  ['slack-token', 'xapp-\\d-[A-Za-z0-9-]{20,}', 'A-Za-z0-9_-'],
  ['notion-token', 'ntn_\\d{11}[A-Za-z0-9]{35}|secret_[A-Za-z0-9]{43}', 'A-Za-z0-9_'],
  ['langsmith-key', 'lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}', 'A-Za-z0-9_'],
  ['render-key', 'rnd_[A-Za-z0-9]{32}', 'A-Za-z0-9_'],
  ['netlify-token', 'nfp_[A-Za-z0-9]{36}', 'A-Za-z0-9_'],
  ['flyio-token', 'fo1_[A-Za-z0-9_-]{43}', 'A-Za-z0-9_-'],
]

/** Lets a pattern's token start right after a `\n`, `\r` or `\t` escape too, as wordStart does. */
function afterEscapes(p: SecretPattern): SecretPattern {
  const source = p.re.source.replace(/^\(\?<!\[([^\]]+)\]\)/, '(?<![$1](?<!\\\\[nrt]))')
  return source === p.re.source ? p : { ...p, re: new RegExp(source, p.re.flags) }
}

const RAW_PATTERNS: SecretPattern[] = [
  {
    kind: 'aws-access-key',
    re: /(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA|AROA|AIDA)[0-9A-Z]{16}(?![A-Z0-9])/g,
    group: 0,
  },
  {
    kind: 'aws-secret-key',
    re: new RegExp(
      `${wordStart()}(?:aws_?secret_?(?:access_?)?key|secret_?access_?key)["']?\\s*[=:]?\\s*["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])`,
      'gi',
    ),
    group: 1,
  },
  {
    kind: 'aws-session-token',
    re: new RegExp(
      `${wordStart()}aws_session_token["']?\\s*[=:\\s]\\s*["']?([A-Za-z0-9/+=]{40,})`,
      'gi',
    ),
    group: 1,
  },
  {
    kind: 'github-token',
    re: /(?<![A-Za-z0-9_])(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}(?![A-Za-z0-9])/g,
    group: 0,
  },
  { kind: 'github-token', re: /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{22,255}/g, group: 0 },
  {
    kind: 'gitlab-token',
    re: /(?<![A-Za-z0-9_-])gl(?:pat|dt|rt|ptt|cbt|soat|ft|imt|agent|ffct|oas)-[A-Za-z0-9_-]{20,}/g,
    group: 0,
  },
  { kind: 'slack-token', re: /(?<![A-Za-z0-9-])xox[abposre]-[A-Za-z0-9-]{10,}/g, group: 0 },
  {
    kind: 'slack-webhook',
    re: /https:\/\/hooks\.slack\.com\/(?:services|workflows)\/[A-Za-z0-9/_-]{20,}/g,
    group: 0,
  },
  {
    kind: 'anthropic-key',
    re: /(?<![A-Za-z0-9_-])sk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_-]{20,}/g,
    group: 0,
  },
  {
    kind: 'openai-key',
    re: /(?<![A-Za-z0-9_-])sk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}/g,
    group: 0,
  },
  {
    kind: 'stripe-key',
    re: /(?<![A-Za-z0-9_])(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}/g,
    group: 0,
  },
  { kind: 'stripe-webhook-secret', re: /(?<![A-Za-z0-9_])whsec_[A-Za-z0-9]{24,}/g, group: 0 },
  {
    kind: 'google-api-key',
    re: /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g,
    group: 0,
  },
  { kind: 'google-oauth-token', re: /(?<![A-Za-z0-9_.-])ya29\.[0-9A-Za-z_-]{20,}/g, group: 0 },
  {
    kind: 'jwt',
    re: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
    group: 0,
  },
  { kind: 'npm-token', re: /(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])/g, group: 0 },
  {
    kind: 'pypi-token',
    re: /(?<![A-Za-z0-9_-])pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,}/g,
    group: 0,
  },
  {
    kind: 'huggingface-token',
    re: /(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{30,}(?![A-Za-z0-9])/g,
    group: 0,
  },
  {
    kind: 'sendgrid-key',
    re: /(?<![A-Za-z0-9_.-])SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g,
    group: 0,
  },
  {
    kind: 'digitalocean-token',
    re: /(?<![A-Za-z0-9_])do[opr]_v1_[a-f0-9]{64}(?![a-f0-9])/g,
    group: 0,
  },
  { kind: 'twilio-key', re: /(?<![A-Za-z0-9])SK[0-9a-f]{32}(?![0-9a-f])/g, group: 0 },
  { kind: 'vault-token', re: /(?<![A-Za-z0-9_.-])(?:hvs|hvb|hvr)\.[A-Za-z0-9_-]{20,}/g, group: 0 },
  {
    kind: 'azure-storage-key',
    re: /(?:AccountKey|SharedAccessKey)=([A-Za-z0-9+/=]{40,})/g,
    group: 1,
  },
  ...PROVIDER_TOKENS.map(([kind, body, chars]) => ({
    kind,
    re: new RegExp(`${wordStart(chars)}(?:${body})(?![${chars}])`, 'g'),
    group: 0,
  })),
  {
    // Telegram bot tokens `<bot id>:<35 characters>`, also inside `api.telegram.org/bot<token>/`.
    kind: 'telegram-bot-token',
    re: new RegExp(
      `(?:(?<=/bot)|${wordStart('A-Za-z0-9_:-')})\\d{5,16}:A[A-Za-z0-9_-]{34}(?![A-Za-z0-9_-])`,
      'g',
    ),
    group: 0,
  },
  {
    // scheme://user:password@host — the password runs to the last `@` before the host, so a
    // password holding `@` is redacted whole.
    kind: 'url-password',
    re: /(?<![A-Za-z0-9+.-])[a-z][a-z0-9+.-]*:\/\/[^\s:@/]+:([^\s/]+)@[^\s@/]*(?=[\s/?#:]|$)/gi,
    group: 1,
    accept: (v) => !isReference(v),
  },
  {
    kind: 'auth-header',
    re: /(?<![A-Za-z0-9-])(?:Authorization|Proxy-Authorization|X-Api-Key|X-Auth-Token|Private-Token)\s*:\s*(?:Bearer\s+|Basic\s+|token\s+)?([A-Za-z0-9._~+/=-]{8,})/gi,
    group: 1,
  },
  {
    // curl -u user:password — never a URL (`-u https://…`), quoted values keep their spaces.
    kind: 'basic-auth',
    re: /(?<!\S)(?:-u|--user)(?:=|\s+)(?:"([^"\s:/]+):([^"\n]*)"|'([^'\s:/]+):([^'\n]*)'|([^\s:'"/]+):(?!\/\/)([^\s'"]+))/g,
    group: -1,
    accept: (v) => !isReference(v),
  },
  {
    kind: 'password-flag',
    re: new RegExp(
      `(?<!\\S)--?(?:password|passwd|pass|token|api-key|apikey|api-token|secret|client-secret|auth-token|access-token|private-key|secret-key|db-password|docker-password|registry-password|admin-password|root-password|ssh-password|app-password|bind-password|master-password|keystore-password|key-password|store-password|storepass|keypass|srcstorepass|deststorepass|srckeypass|destkeypass)(?:=|\\s+)${VALUE}`,
      'gi',
    ),
    group: -1,
    accept: (v) => !isReference(v) && !v.startsWith('-'),
  },
  { kind: 'sshpass', re: new RegExp(`(?<![\\w-])sshpass\\s+-p\\s*${VALUE}`, 'g'), group: -1 },
  { kind: 'password-flag', re: /(?<!\S)-pass(?:in|out)?\s+pass:([^\s"']+)/g, group: 1 },
  {
    kind: 'vault-token',
    re: /(?<![\w-])vault\s+login\s+(?!-)([^\s=]+)(?=\s|$)/g,
    group: 1,
    accept: (v) => !isReference(v),
  },
  {
    kind: 'aws-secret-key',
    re: /(?<![\w-])aws\s+configure\s+set\s+\S*(?:secret|token)\S*\s+(\S+)/gi,
    group: 1,
    accept: (v) => !isReference(v),
  },
  {
    kind: 'secret-json',
    re: /(["'])([A-Za-z_][\w.-]{0,80})\1\s*:\s*(?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)')/g,
    group: -1,
  },
  {
    kind: 'secret-assignment',
    re: new RegExp(
      `${wordStart('A-Za-z0-9_$\\\\-')}([A-Za-z_][A-Za-z0-9_]{0,80})[ \\t]*[=:][ \\t]*${VALUE}`,
      'g',
    ),
    group: -1,
  },
]
const PATTERNS = RAW_PATTERNS.map(afterEscapes)

/** `$VAR`, `${VAR}`, `$(cmd)`, `{{ template }}`, `<placeholder>`, `****`: not a secret itself. */
function isReference(v: string): boolean {
  return /^(\$|`)|^\{\{.*\}\}$|^<[^>]*>$|^\*+$|^x+$|^%[A-Z_]+%$|^\$\{/i.test(v)
}

/** Words of a variable or key name: `DB_PASSWORD` → db, password; `apiKey` → api, key. */
function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[_.-]+/)
    .filter(Boolean)
}

const SECRET_WORDS = new Set([
  'password',
  'passwd',
  'pass',
  'pwd',
  'secret',
  'token',
  'apikey',
  'credential',
  'credentials',
  'passphrase',
  'auth',
])
const KEY_QUALIFIERS = new Set([
  'api',
  'access',
  'secret',
  'private',
  'master',
  'encryption',
  'signing',
  'client',
  'account',
  'storage',
  'license',
  'app',
])
const NOT_SECRETS =
  /^(true|false|yes|no|on|off|null|none|nil|undefined|required|optional|env|file)$/i

/**
 * How sure a name is to hold a secret: `strong` names (`DB_PASSWORD`, `TOKEN`, `apiKey`) take any
 * literal value; `weak` ones (`SECRET_KEY_BASE`, `TOKEN_TTL`) only a random-looking one.
 */
function nameStrength(name: string): 'strong' | 'weak' | null {
  const words = nameWords(name)
  const last = words[words.length - 1] ?? ''
  if (words.length === 1 && (last === 'pwd' || last === 'oldpwd')) return null
  if (SECRET_WORDS.has(last) || /^(pg|my|mysql|redis)?(password|passwd|pwd)$/.test(last))
    return 'strong'
  if (last === 'key' && words.length > 1 && KEY_QUALIFIERS.has(words[words.length - 2]!))
    return 'strong'
  if (words.some((w) => SECRET_WORDS.has(w) || w === 'key' || /password/.test(w))) return 'weak'
  return null
}

function acceptAssignment(name: string, value: string, colon: boolean): boolean {
  if (!value || isReference(value) || NOT_SECRETS.test(value) || !/[A-Za-z0-9]/.test(value))
    return false
  // `key: value` (YAML, headers) says less than `KEY=value`: ask for a real-looking value.
  if (colon && value.length < 4) return false
  if (/\$\{?[A-Za-z_]|\$\(/.test(value) && value.replace(/\$\{?\w+\}?|\$\([^)]*\)/g, '').length < 3)
    return false
  const strength = nameStrength(name)
  if (strength === 'strong') {
    // PWD-like names holding a path are directories, not passwords.
    if (/pwd$/i.test(name) && /^[/~.]/.test(value)) return false
    return value.length >= 1
  }
  if (strength === 'weak')
    return (
      value.length >= 16 && entropy(value) >= 3 && /[0-9]/.test(value) && /[A-Za-z]/.test(value)
    )
  return false
}

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

const FILE_OPTION = /--(?:from-file|from-env-file|set-file)[= ][\w.-]*$/

/** The captured secret of a match whose value sits in whichever alternative matched. */
function valueOf(p: SecretPattern, m: RegExpExecArray): { value: string; index: number } | null {
  if (p.group >= 0) {
    const value = m[p.group]
    if (value === undefined || value === '') return null
    const index = m.index + (p.group === 0 ? 0 : m[0].lastIndexOf(value))
    return { value, index }
  }
  // The last defined group holds the value (the alternatives of VALUE, or basic-auth's password).
  for (let g = m.length - 1; g >= 1; g--) {
    const value = m[g]
    if (value === undefined) continue
    if (value === '') return null
    if (p.kind === 'secret-assignment' || p.kind === 'secret-json') {
      const name = p.kind === 'secret-json' ? m[2]! : m[1]!
      // `kubectl create secret --from-file=password=./pw.txt`, `helm --set-file key=path`: the
      // value names a file holding the secret (`--from-literal=password=…` is the secret itself).
      if (
        p.kind === 'secret-assignment' &&
        FILE_OPTION.test(m.input.slice(Math.max(0, m.index - 100), m.index))
      )
        return null
      const colon = p.kind === 'secret-assignment' && /^[A-Za-z0-9_]+[ \t]*:/.test(m[0])
      if (!acceptAssignment(name, value, colon)) return null
    }
    return { value, index: m.index + m[0].lastIndexOf(value) }
  }
  return null
}

const BEGIN_KEY = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/g
const END_KEY = /-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/g

/** Base64 and the PEM punctuation (`Proc-Type: 4,ENCRYPTED`, `\n` escapes): key material. */
function isKeyChar(c: number): 'material' | 'filler' | null {
  if (
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    (c >= 48 && c <= 57) ||
    c === 43 ||
    c === 47 ||
    c === 61
  )
    return 'material'
  if (c === 10 || c === 13 || c === 32 || c === 9 || c === 58 || c === 44 || c === 45 || c === 92)
    return 'filler'
  return null
}

/**
 * Private key blocks: the header, the key material and the footer. Only when key material
 * follows the header: a header alone (`grep -- "-----BEGIN RSA PRIVATE KEY-----" .`) is a look-
 * alike, and nothing after the key material is ever taken with it.
 *
 * A quoted header (`'-----BEGIN …'`) starts a run of quoted words: the key may be split over
 * several (`printf '%s\n' '-----BEGIN …' 'MIIE…' '-----END …'`), with only blanks between them;
 * the first unquoted word ends the run. Without a footer the redaction stops at the run's last
 * closing quote, so the command after it stays.
 */
function privateKeys(text: string, found: SecretFinding[]): void {
  if (!text.includes('PRIVATE KEY-----')) return
  const ends = new Map<number, number>()
  END_KEY.lastIndex = 0
  for (let m = END_KEY.exec(text); m; m = END_KEY.exec(text))
    ends.set(m.index, m.index + m[0].length)
  BEGIN_KEY.lastIndex = 0
  let after = 0
  for (let m = BEGIN_KEY.exec(text); m; m = BEGIN_KEY.exec(text)) {
    if (m.index < after) continue
    const before = text.charCodeAt(m.index - 1)
    const quotedRun = before === 34 || before === 39
    // Inside which quote the scan is (a char code), 0 between the words of a quoted run.
    let quote = quotedRun ? before : 0
    let lastClose = -1
    let i = m.index + m[0].length
    let material = 0
    // Every branch stops at `-----`, so one header's scan never runs into the next header's.
    while (i < text.length) {
      const c = text.charCodeAt(i)
      if (c === 45 && text.startsWith('-----', i)) break
      if (quotedRun && quote !== 0 && c === quote) {
        lastClose = i
        quote = 0
      } else if (quotedRun && quote === 0) {
        if (c === 34 || c === 39) quote = c
        else if (!(c === 32 || c === 9 || c === 10 || c === 13 || c === 92)) break
      } else {
        const kind = isKeyChar(c)
        if (kind === null) break
        if (kind === 'material') material++
      }
      i++
    }
    // With its footer any material is a key; without, only a key-sized run of it.
    const footer = ends.get(i)
    if (material === 0 || (footer === undefined && material < 40)) continue
    let end = footer ?? (quotedRun && quote === 0 && lastClose > 0 ? lastClose : i)
    if (footer === undefined) while (end > m.index && /\s/.test(text[end - 1]!)) end--
    found.push({ kind: 'private-key', start: m.index, end })
    after = end
  }
}

/**
 * Password options that mean a password only for some programs: `mysql -pSECRET`, `docker login
 * -p SECRET`, `redis-cli -a SECRET`, `openssl enc -k SECRET`. Searched per command segment (split
 * at `;`, `|`, `&` and newlines), one pass per segment, so the cost stays linear.
 */
const TOOL_FLAGS: Array<{ tool: RegExp; flag: RegExp; requires?: RegExp }> = [
  {
    tool: /(?<![\w-])(?:mysql|mariadb|mysqldump|mysqladmin|mysqlimport|mysqlshow|mysqlcheck)\b/,
    flag: /(?<!\S)-p(?:"([^"\n]+)"|'([^'\n]+)'|([^\s"']+))/g,
  },
  {
    tool: /(?<![\w-])(?:docker|podman|nerdctl|buildah|skopeo|helm)\s+(?:registry\s+)?login\b/,
    flag: new RegExp(`(?<!\\S)-p\\s*${VALUE}`, 'g'),
  },
  { tool: /(?<![\w-])az\s+login\b/, flag: new RegExp(`(?<!\\S)-p(?:=|\\s+)${VALUE}`, 'g') },
  { tool: /(?<![\w-])(?:redis|valkey)-cli\b/, flag: new RegExp(`(?<!\\S)-a\\s+${VALUE}`, 'g') },
  { tool: /(?<![\w-])openssl\b/, flag: new RegExp(`(?<!\\S)-k\\s+${VALUE}`, 'g') },
  {
    // Samba's `-U user%password` (`--user=`, quoted or attached): the part after the `%`.
    tool: /(?<![\w-])(?:smbclient|rpcclient|smbcacls|smbget|smbmap|smbtree|net\s+(?:rpc|ads))\b/,
    flag: /(?<!\S)(?:-U|--user(?:name)?)(?:=|\s*)(?:"[^"%\n]*%([^"\n]+)"|'[^'%\n]*%([^'\n]+)'|[^\s%"']*%([^\s"']+))/g,
  },
  {
    // `net use Z: \\server\share /user:DOM\alice PASSWORD` or `net use \\server\share PASSWORD
    // /user:alice`; `*` asks for it.
    tool: /(?<![\w-])net(?:\.exe)?\s+use\b/i,
    flag: new RegExp(`(?<!\\S)(?:/u(?:ser)?:\\S+|\\\\\\\\\\S+)\\s+(?![/*])${VALUE}`, 'gi'),
  },
  // `net user alice PASSWORD /add`
  {
    tool: /(?<![\w-])net(?:\.exe)?\s+user\b/i,
    flag: new RegExp(`\\s+[^\\s/]+\\s+(?![/*])${VALUE}`, 'y'),
  },
  {
    // PowerShell: `ConvertTo-SecureString 'plain' -AsPlainText -Force` (without -AsPlainText the
    // argument is an already encrypted string).
    tool: /(?<![\w-])ConvertTo-SecureString\b/i,
    flag: new RegExp(`(?:\\s+-(?:AsPlainText|Force)\\b)*\\s+(?:-String\\s+)?${VALUE}`, 'iy'),
    requires: /(?<!\S)-AsPlain/i,
  },
]

/**
 * Command segments: split at `;`, `|`, `&` and newlines, but not inside a quoted word, so that
 * `mysql -p'a;b c'` stays one segment.
 */
const SEGMENT = /(?:"[^"\n]*"|'[^'\n]*'|[^\n;|&"'])+/g

function toolFlags(text: string, found: SecretFinding[]): void {
  SEGMENT.lastIndex = 0
  for (let seg = SEGMENT.exec(text); seg; seg = SEGMENT.exec(text)) {
    const part = seg[0]
    for (const { tool, flag, requires } of TOOL_FLAGS) {
      const t = tool.exec(part)
      if (!t || (requires && !requires.test(part))) continue
      flag.lastIndex = t.index + t[0].length
      const m = flag.exec(part)
      if (!m) continue
      const value = lastGroup(m)
      if (!value || isReference(value)) continue
      const start = seg.index + m.index + m[0].lastIndexOf(value)
      found.push({ kind: 'password-flag', start, end: start + value.length })
    }
  }
}

function lastGroup(m: RegExpExecArray): string | undefined {
  for (let g = m.length - 1; g >= 1; g--) if (m[g] !== undefined) return m[g]
  return undefined
}

/** A whole pipeline stage that prints one value: `echo [-n] VALUE`, `printf ['%s\n'] VALUE`. */
const ECHO_STAGE = new RegExp(
  `^[ \\t]*(?:echo|printf)(?:[ \\t]+-[A-Za-z]+)*[ \\t]+(?:(?:"%s(?:\\\\n)?"|'%s(?:\\\\n)?')[ \\t]+)?${VALUE}[ \\t]*$`,
)
const HERE_STRING = new RegExp(`<<<[ \\t]*${VALUE}`)
const STDIN_SECRET =
  /(?<!\S)(?:--password-stdin|--with-token)(?![\w-])|(?<![\w-])(?:chpasswd|passwd[ \t]+--stdin)(?![\w-])|(?<![\w-])vault[ \t]+login(?:[ \t]+-\S+)*[ \t]+-(?!\S)/
/** sudo's options that take a value (`-u root`), so that the command after them is found. */
const SUDO_VALUE_OPTIONS =
  /^-[A-Za-z]*[ugpCDrtUTRh]$|^--(?:user|group|prompt|close-from|chdir|role|type|other-user|command-timeout|chroot|host)$/

/** Does this pipeline stage read a password or token from its standard input? */
function readsSecretFromStdin(stage: string): boolean {
  if (STDIN_SECRET.test(stage)) return true
  const sudo = /(?<![\w-])sudo[ \t]+/.exec(stage)
  if (!sudo) return false
  // `sudo -S cmd`, `sudo -u root -kS cmd`, `sudo --stdin cmd`; a later `-S` (`sudo pacman -S
  // vim`) belongs to the command, not to sudo.
  const words = stage.slice(sudo.index + sudo[0].length).split(/[ \t]+/)
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!
    if (word === '--stdin' || /^-[A-Za-z]*S[A-Za-z]*$/.test(word)) return true
    if (!word.startsWith('-') || word === '--') return false
    if (SUDO_VALUE_OPTIONS.test(word)) i++
  }
  return false
}

/**
 * A value fed to a command that reads a password from its standard input: `echo pw | docker login
 * --password-stdin`, `printf '%s' pw | sudo -S …`, `sudo -S … <<< pw`.
 */
function stdinSecrets(text: string, found: SecretFinding[]): void {
  let prev: RegExpExecArray | null = null
  SEGMENT.lastIndex = 0
  for (let seg = SEGMENT.exec(text); seg; prev = seg, seg = SEGMENT.exec(text)) {
    const stage = seg[0]
    if (!readsSecretFromStdin(stage)) continue
    const piped =
      prev !== null &&
      prev.index + prev[0].length === seg.index - 1 &&
      text[seg.index - 1] === '|' &&
      text[seg.index - 2] !== '|'
    const echoed = piped ? ECHO_STAGE.exec(prev![0]) : null
    if (echoed) push(prev!.index + echoed.index, echoed)
    const here = HERE_STRING.exec(stage)
    if (here) push(seg.index + here.index, here)
  }

  function push(at: number, m: RegExpExecArray): void {
    const value = lastGroup(m)
    if (!value || isReference(value)) return
    const start = at + m[0].lastIndexOf(value)
    found.push({ kind: 'password-stdin', start, end: start + value.length })
  }
}

/** Passwords given to htpasswd on the command line: `-b FILE USER PASS`, `-nb USER PASS`. */
function htpasswd(text: string, found: SecretFinding[]): void {
  const re =
    /(?<![\w-])htpasswd((?:[ \t]+-[a-zA-Z]+)+)[ \t]+(\S+)[ \t]+(\S+)(?:[ \t]+([^\s;&|]+))?/g
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const flags = m[1]!
    if (!flags.includes('b')) continue
    const value = flags.includes('n') ? m[3] : m[4]
    if (!value || isReference(value)) continue
    const start = m.index + m[0].lastIndexOf(value)
    found.push({ kind: 'password-flag', start, end: start + value.length })
  }
}

/**
 * fish's `set [-gx|-Ux|--export …] NAME value…` (and csh's `setenv NAME value`): a secret-looking
 * name's values, quoted or not. One quoted value keeps its quotes; several are one secret (fish
 * joins an exported list with spaces).
 */
const SET_VARIABLE =
  /(?<![\w$.-])(?:set|setenv)((?:[ \t]+-[A-Za-z-]+)*)[ \t]+([A-Za-z_][A-Za-z0-9_]{0,80})((?:[ \t]+(?:"[^"\n]*"|'[^'\n]*'|[^\s"'`;&|<>()])+)+)/g

function setVariables(text: string, found: SecretFinding[]): void {
  SET_VARIABLE.lastIndex = 0
  for (let m = SET_VARIABLE.exec(text); m; m = SET_VARIABLE.exec(text)) {
    const [whole, flags, name, run] = m as unknown as [string, string, string, string]
    // `set -e TOKEN`, `set -q TOKEN`: erase or query, no value (what follows is another word).
    if (/(?:^|\s)-[A-Za-z]*[eqS]|--(?:erase|query|show)/.test(flags)) continue
    const words = run.trimStart()
    // `gh secret set API_KEY --body …`: an option after the name, not fish's value list.
    if (words.startsWith('-')) continue
    let start = m.index + whole.length - words.length
    let value = words
    const quoted = /^(["'])([^"']*)\1$/.exec(words)
    if (quoted) {
      value = quoted[2]!
      start++
    }
    if (!acceptAssignment(name, value, false)) continue
    found.push({ kind: 'secret-assignment', start, end: start + value.length })
  }
}

/** Finds secrets in a text; findings are sorted and never overlap. */
export function findSecrets(text: string): SecretFinding[] {
  const found: SecretFinding[] = []
  privateKeys(text, found)
  htpasswd(text, found)
  toolFlags(text, found)
  for (const p of PATTERNS) {
    p.re.lastIndex = 0
    let m: RegExpExecArray | null
    while ((m = p.re.exec(text))) {
      if (m[0].length === 0) {
        p.re.lastIndex++
        continue
      }
      const v = valueOf(p, m)
      if (!v) continue
      if (p.accept && !p.accept(v.value, m)) continue
      found.push({ kind: p.kind, start: v.index, end: v.index + v.value.length })
    }
  }
  // After the patterns: a same-span finding keeps the provider's kind (`aws configure set … AKIA…`).
  setVariables(text, found)
  stdinSecrets(text, found)
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
