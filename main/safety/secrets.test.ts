import { describe, expect, it } from 'vitest'
import { redactSecrets } from './index'

const cases: Array<[string, string, string]> = [
  [
    'aws-access-key',
    'aws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLE',
    'AKIAIOSFODNN7EXAMPLE',
  ],
  [
    'aws-secret-key',
    'export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  ],
  [
    'github-token',
    'git clone https://ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/x/y',
    'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
  ],
  [
    'gitlab-token',
    'curl -H "PRIVATE-TOKEN: glpat-abcdefghij0123456789" https://gitlab.com/api',
    'glpat-abcdefghij0123456789',
  ],
  [
    'slack-token',
    'curl -d token=xoxb-123456789012-abcdefghijkl https://slack.com/api',
    'xoxb-123456789012-abcdefghijkl',
  ],
  [
    'openai-key',
    'OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwxyz123456 node app.js',
    'sk-proj-abcdefghijklmnopqrstuvwxyz123456',
  ],
  [
    'anthropic-key',
    'export ANTHROPIC_API_KEY=sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123',
    'sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123',
  ],
  [
    'stripe-key',
    'curl -u sk_live_abcdefghijklmnop1234: https://api.stripe.com',
    'sk_live_abcdefghijklmnop1234',
  ],
  [
    'google-api-key',
    'curl "https://maps.googleapis.com/x?key=AIzaSyA1234567890abcdefghijklmnopqrstuv"',
    'AIzaSyA1234567890abcdefghijklmnopqrstuv',
  ],
  [
    'jwt',
    'curl -H "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U" x',
    'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
  ],
  [
    'npm-token',
    'npm config set //registry.npmjs.org/:_authToken npm_abcdefghijklmnopqrstuvwxyz0123456789',
    'npm_abcdefghijklmnopqrstuvwxyz0123456789',
  ],
  ['url-password', 'psql postgres://admin:hunter2@db.internal:5432/app', 'hunter2'],
  ['password-flag', 'mysql -u root -pS3cretPass -e "SHOW DATABASES"', 'S3cretPass'],
  ['password-flag', 'vault login --password=correct-horse-battery', 'correct-horse-battery'],
  ['secret-assignment', 'export DB_PASSWORD=letmein42', 'letmein42'],
  [
    'secret-assignment',
    'MY_SERVICE_TOKEN=f3a9c1e07b2d4f6a8c0e1b3d5f7a9c1e ./run.sh',
    'f3a9c1e07b2d4f6a8c0e1b3d5f7a9c1e',
  ],
  ['secret-assignment', 'API_KEY=s3cr3tvalue ls', 's3cr3tvalue'],
]

describe('redactSecrets', () => {
  it.each(cases)('finds and redacts %s', (kind, text, secret) => {
    const { text: out, findings } = redactSecrets(text)
    expect(out).not.toContain(secret)
    expect(findings.some((f) => text.slice(f.start, f.end) === secret)).toBe(true)
    expect(findings.map((f) => f.kind)).toContain(kind)
    expect(out).toContain('[REDACTED:')
  })

  it('keeps the shell operator after a redacted assignment', () => {
    expect(redactSecrets('MY_TOKEN=abcd1234efgh5678ijkl; true').text).toBe(
      'MY_TOKEN=[REDACTED:secret-assignment]; true',
    )
    expect(redactSecrets('DB_PASSWORD=letmein42&& psql').text).toBe(
      'DB_PASSWORD=[REDACTED:secret-assignment]&& psql',
    )
  })

  it('redacts private key blocks', () => {
    const key =
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n-----END OPENSSH PRIVATE KEY-----'
    const r = redactSecrets(`echo '${key}' > id`)
    expect(r.text).toBe("echo '[REDACTED:private-key]' > id")
  })

  it('leaves ordinary commands alone', () => {
    for (const text of [
      'ls -la',
      'ssh -p 2222 host',
      'mkdir -p build/out',
      'git log --author=alice',
      'export PATH=$PATH:~/bin',
      'KEY_COUNT=5 ./x',
      'psql postgres://localhost/app',
      'curl -u $USER:$PASS https://x',
    ]) {
      expect(redactSecrets(text)).toEqual({ text, findings: [] })
    }
  })
})
