import { describe, expect, it } from 'vitest'
import { redactSecrets } from './index'

/**
 * Forms an outside review found redaction missing (or over-redacting), one block per class. Every
 * value here is made up for the test.
 */

/** The secrets are gone, each found exactly, and the text is otherwise what `expected` says. */
function expectRedacted(text: string, secrets: string[], expected?: string): void {
  const { text: out, findings } = redactSecrets(text)
  for (const secret of secrets) {
    expect(out, text).not.toContain(secret)
    expect(
      findings.some((f) => text.slice(f.start, f.end) === secret),
      `${secret} in ${text}`,
    ).toBe(true)
  }
  if (expected !== undefined) expect(out).toBe(expected)
}

function expectUntouched(text: string): void {
  expect(redactSecrets(text), text).toEqual({ text, findings: [] })
}

/** Each input must take well under the bound: a quadratic pass takes minutes at a megabyte. */
function expectLinear(inputs: string[]): void {
  for (const text of inputs) {
    const start = performance.now()
    redactSecrets(text)
    expect(performance.now() - start, text.slice(0, 30)).toBeLessThan(5_000)
  }
}

const MB = 1_000_000
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'

describe('credentials-file text inside a command', () => {
  it('redacts each key = value pair on its own, never past a \\n escape', () => {
    expectRedacted(
      `printf '[default]\\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\\naws_secret_access_key = ${AWS_SECRET}\\n' > ~/.aws/credentials`,
      ['AKIAIOSFODNN7EXAMPLE', AWS_SECRET],
      "printf '[default]\\naws_access_key_id = [REDACTED:aws-access-key]\\naws_secret_access_key = [REDACTED:aws-secret-key]\\n' > ~/.aws/credentials",
    )
    expectRedacted(
      "printf '[db]\\npassword=hunter2\\napi_token = q9Zr7Kx2\\nuser = bob\\n' > db.ini",
      ['hunter2', 'q9Zr7Kx2'],
      "printf '[db]\\npassword=[REDACTED:secret-assignment]\\napi_token = [REDACTED:secret-assignment]\\nuser = bob\\n' > db.ini",
    )
    expectRedacted(
      `echo -e "[prod]\\r\\naws_secret_access_key=${AWS_SECRET}\\r\\nregion=eu-west-1"`,
      [AWS_SECRET],
      'echo -e "[prod]\\r\\naws_secret_access_key=[REDACTED:aws-secret-key]\\r\\nregion=eu-west-1"',
    )
    expectRedacted(
      "printf 'token=t0k3nV4l\\tuser=bob'",
      ['t0k3nV4l'],
      "printf 'token=[REDACTED:secret-assignment]\\tuser=bob'",
    )
  })

  it('redacts pairs on real lines and keeps what follows', () => {
    const heredoc = `cat > ~/.aws/credentials <<EOF\n[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = ${AWS_SECRET}\nEOF\nchmod 600 ~/.aws/credentials`
    expectRedacted(
      heredoc,
      ['AKIAIOSFODNN7EXAMPLE', AWS_SECRET],
      'cat > ~/.aws/credentials <<EOF\n[default]\naws_access_key_id = [REDACTED:aws-access-key]\naws_secret_access_key = [REDACTED:aws-secret-key]\nEOF\nchmod 600 ~/.aws/credentials',
    )
  })

  it('keeps other backslashes inside a bare value', () => {
    expectRedacted('DB_PASSWORD=pa\\$\\$w0rd ./migrate', ['pa\\$\\$w0rd'])
  })

  it('leaves settings that are not secrets alone', () => {
    expectUntouched("printf '[default]\\nregion = us-east-1\\noutput = json\\n' > ~/.aws/config")
    expectUntouched("printf '[pool]\\nkey_count = 5\\ntoken_ttl = 3600\\n'")
    expectUntouched("printf '[a]\\npassword = $DB_PASSWORD\\n'")
  })

  it('stays linear on escape-heavy input', () => {
    expectLinear([
      'a=\\n'.repeat(MB / 4),
      'PASSWORD=' + '\\x'.repeat(MB / 2),
      '\\naws_secret_access_key = '.repeat(MB / 26),
      'token=\\\\'.repeat(MB / 8),
    ])
  })
})

describe('kubectl --from-file', () => {
  it('leaves a path after --from-file alone', () => {
    expectUntouched('kubectl create secret generic db --from-file=password=./db-pass.txt')
    expectUntouched('kubectl create secret generic db --from-file password=/run/secrets/pw')
    expectUntouched('kubectl create configmap env --from-env-file=token=.env.prod')
    expectUntouched('helm upgrade app ./chart --set-file auth.password=./pw.txt')
  })

  it('redacts --from-literal values next to them', () => {
    expectRedacted(
      'kubectl create secret generic db --from-file=password=./db-pass.txt --from-literal=api_token=T0k3nX',
      ['T0k3nX'],
      'kubectl create secret generic db --from-file=password=./db-pass.txt --from-literal=api_token=[REDACTED:secret-assignment]',
    )
    expectRedacted('kubectl create secret generic db --from-literal=password=hunter2', ['hunter2'])
    expectRedacted('helm install app ./chart --set auth.password=s3cr3t', ['s3cr3t'])
  })
})
