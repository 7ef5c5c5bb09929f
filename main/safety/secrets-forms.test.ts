import { describe, expect, it } from 'vitest'
import { redactSecrets } from './index'

/**
 * Forms an outside review found redaction missing (or over-redacting), one block per class. Every
 * value here is made up for the test.
 */

/** The secrets are gone, each inside a finding, and the text is otherwise what `expected` says. */
function expectRedacted(text: string, secrets: string[], expected?: string): void {
  const { text: out, findings } = redactSecrets(text)
  for (const secret of secrets) {
    expect(out, text).not.toContain(secret)
    const at = text.indexOf(secret)
    expect(
      findings.some((f) => f.start <= at && at + secret.length <= f.end),
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

describe('fish set (and csh setenv)', () => {
  it('redacts the value after a secret-looking name, whatever the flags', () => {
    expectRedacted(
      'set -x GITHUB_TOKEN ghp_abcdefghijklmnopqrstuvwxyz0123456789',
      ['ghp_abcdefghijklmnopqrstuvwxyz0123456789'],
      'set -x GITHUB_TOKEN [REDACTED:github-token]',
    )
    expectRedacted(
      "set -gx DB_PASSWORD 'two words!'",
      ['two words!'],
      "set -gx DB_PASSWORD '[REDACTED:secret-assignment]'",
    )
    expectRedacted('set -Ux API_KEY s3cr3tvalue', ['s3cr3tvalue'])
    expectRedacted(
      'set --export --global MAILER_PASSWD "p w;d" ; and echo ok',
      ['p w;d'],
      'set --export --global MAILER_PASSWD "[REDACTED:secret-assignment]" ; and echo ok',
    )
    expectRedacted('set -l db_pwd hunter2 && psql', ['hunter2'])
    expectRedacted('set -x AZURE_CREDENTIAL abc def | cat', ['abc def'])
    expectRedacted('set -gx SECRET_KEY_BASE 4f9a1c2b7e3d8a6f0b5c9e2d1a7f3b8c', [
      '4f9a1c2b7e3d8a6f0b5c9e2d1a7f3b8c',
    ])
    expectRedacted('setenv DB_PASSWORD hunter2', ['hunter2'])
    expectRedacted('yarn config set npmAuthToken n0tAr3alT0ken', ['n0tAr3alT0ken'])
    // A provider's own kind wins over the generic one on the same span.
    expect(
      redactSecrets('aws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLE').findings,
    ).toEqual([{ kind: 'aws-access-key', start: 36, end: 56 }])
  })

  it('leaves other set commands alone', () => {
    for (const text of [
      'set -x PATH $PATH ~/bin',
      'set -gx EDITOR vim',
      'set -e API_KEY',
      'set --erase GITHUB_TOKEN',
      'set -q DB_PASSWORD; or echo missing',
      'set -x GITHUB_TOKEN $GH_TOKEN',
      'set -gx TOKEN "$VAULT_TOKEN"',
      'set -x TOKEN (cat ~/.token)',
      'set -x DB_PWD ~/db',
      'set -euo pipefail',
      'set -x TOKEN_TTL 3600',
      'setenv PASSWORD_MIN_LENGTH 12',
      'gh secret set API_KEY --body "$API_KEY"',
    ])
      expectUntouched(text)
  })

  it('stays linear', () => {
    expectLinear([
      'set '.repeat(MB / 4),
      'set -x '.repeat(MB / 7),
      'set -x TOKEN '.repeat(MB / 13),
      'set' + ' -a'.repeat(MB / 3),
      "set -x TOKEN '".repeat(MB / 14),
    ])
  })
})

describe('tool password options with quoted or attached values', () => {
  it('redacts them', () => {
    expectRedacted(
      "mysql -p'My Pass;word 9' shop",
      ['My Pass;word 9'],
      "mysql -p'[REDACTED:password-flag]' shop",
    )
    expectRedacted('mysql -u root -p"My Pass;word 9" -e "select 1; select 2"', ['My Pass;word 9'])
    expectRedacted('mysqldump -uroot -p"a|b&c" shop > dump.sql', ['a|b&c'])
    expectRedacted(
      'kubectl create secret docker-registry reg --docker-server=r.io --docker-username=u --docker-password=Xyz123 --docker-email=a@b.c',
      ['Xyz123'],
    )
    expectRedacted(
      "az login -u alice@example.com -p 'az secret 1'",
      ['az secret 1'],
      "az login -u alice@example.com -p '[REDACTED:password-flag]'",
    )
    expectRedacted('az login --service-principal -u app -p azSecret1 --tenant t', ['azSecret1'])
    expectRedacted('az login -u alice --password=azSecret2', ['azSecret2'])
    expectRedacted(
      'smbclient //server/share -U alice%Pa55word',
      ['Pa55word'],
      'smbclient //server/share -U alice%[REDACTED:password-flag]',
    )
    expectRedacted("smbclient //server/share -U 'DOM\\alice%Pa ss' -c ls", ['Pa ss'])
    expectRedacted('rpcclient -U"bob%b0b pw" dc01', ['b0b pw'])
    expectRedacted('smbclient -L //nas --user=bob%b0bpw', ['b0bpw'])
    expectRedacted(
      'net use Z: \\\\server\\share /user:DOM\\alice P@ss /persistent:yes',
      ['P@ss'],
      'net use Z: \\\\server\\share /user:DOM\\alice [REDACTED:password-flag] /persistent:yes',
    )
    expectRedacted('net use \\\\server\\share S3cret! /user:alice', ['S3cret!'])
    expectRedacted('NET USE Z: \\\\srv\\new /USER:bob "pa ss"', ['pa ss'])
    expectRedacted('net user alice Passw0rd! /add', ['Passw0rd!'])
    expectRedacted(
      "$pw = ConvertTo-SecureString 'plain text pw' -AsPlainText -Force",
      ['plain text pw'],
      "$pw = ConvertTo-SecureString '[REDACTED:password-flag]' -AsPlainText -Force",
    )
    expectRedacted('$pw = ConvertTo-SecureString -String "P@ss;1" -AsPlainText -Force; Connect-X', [
      'P@ss;1',
    ])
    expectRedacted("convertto-securestring -asplaintext -force 'pw2'", ['pw2'])
    expectRedacted(
      'keytool -importkeystore -srckeystore a.p12 -srcstorepass changeit1 -deststorepass changeit2',
      ['changeit1', 'changeit2'],
    )
  })

  it('leaves the same tools without a password alone', () => {
    for (const text of [
      'mysql -p -h db shop',
      'mysql -h db -e "select 1; select 2"',
      'az login --use-device-code',
      'az login -u alice@example.com',
      'az vm create -n vm1 -g rg --image Ubuntu2204',
      'smbclient -L //nas -U alice',
      'smbclient -L //nas -N',
      'smbclient //server/share -U "$SMB_USER%$SMB_PASS"',
      'net use Z: \\\\server\\share /user:alice *',
      'net use Z: \\\\server\\share /persistent:no',
      'net use Z: /delete',
      'net user alice /domain',
      'net users',
      'ConvertTo-SecureString $encrypted',
      'ConvertTo-SecureString $plain -AsPlainText -Force',
      "ConvertTo-SecureString '01000000d08c9ddf0115d1118c7a00c04fc297eb'",
      'kubectl create secret docker-registry reg --docker-server=r.io --docker-password=$PW',
    ])
      expectUntouched(text)
  })

  it('stays linear', () => {
    expectLinear([
      "mysql -p'".repeat(MB / 9),
      "'".repeat(MB),
      '"\';'.repeat(MB / 3),
      'mysql ' + "'a".repeat(MB / 2),
      'net use \\\\'.repeat(MB / 10),
      'net use /user:a '.repeat(MB / 16),
      'smbclient -U %'.repeat(MB / 14),
      'ConvertTo-SecureString -AsPlainText '.repeat(MB / 37),
    ])
  })
})

describe('a private key split over quoted arguments', () => {
  const line1 = 'MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun'
  const line2 = 'VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK'

  it('redacts from BEGIN to END across quotes and blanks, and nothing after END', () => {
    expectRedacted(
      `printf '%s\\n' '-----BEGIN RSA PRIVATE KEY-----' '${line1}' '${line2}' '-----END RSA PRIVATE KEY-----' > k.pem && chmod 600 k.pem`,
      [line1, line2],
      "printf '%s\\n' '[REDACTED:private-key]' > k.pem && chmod 600 k.pem",
    )
    expectRedacted(
      `printf '%s\\n' \\\n  "-----BEGIN PRIVATE KEY-----" \\\n  "${line1}" \\\n  "${line2}" \\\n  "-----END PRIVATE KEY-----" 'not a key' > k.pem`,
      [line1, line2],
      `printf '%s\\n' \\\n  "[REDACTED:private-key]" 'not a key' > k.pem`,
    )
    expectRedacted(
      `echo '-----BEGIN EC PRIVATE KEY-----' "${line1}" '-----END EC PRIVATE KEY-----'; echo done`,
      [line1],
      "echo '[REDACTED:private-key]'; echo done",
    )
  })

  it('without END, stops at the end of the quoted run', () => {
    expectRedacted(
      `printf '%s\\n' '-----BEGIN RSA PRIVATE KEY-----' '${line1}' '${line2}' > k.pem && chmod 600 k.pem`,
      [line1, line2],
      "printf '%s\\n' '[REDACTED:private-key]' > k.pem && chmod 600 k.pem",
    )
    expectRedacted(
      `printf '%s\\n' '-----BEGIN RSA PRIVATE KEY-----' '${line1}' tee k.pem`,
      [line1],
      "printf '%s\\n' '[REDACTED:private-key]' tee k.pem",
    )
  })

  it('leaves headers without key material alone', () => {
    expectUntouched("printf '%s\\n' '-----BEGIN RSA PRIVATE KEY-----' 'hello' > k.pem")
    expectUntouched("grep -c -- '-----BEGIN OPENSSH PRIVATE KEY-----' ~/.ssh/id_ed25519")
    expectUntouched(
      "grep -l '-----BEGIN RSA PRIVATE KEY-----' *.pem 'ReadmeAboutKeysAndTheirRotationPolicyForOps' | wc -l",
    )
  })

  it('stays linear', () => {
    expectLinear([
      "'-----BEGIN PRIVATE KEY-----' '".repeat(MB / 32),
      "'-----BEGIN PRIVATE KEY-----' 'AAAA' ".repeat(MB / 36),
      "'-----BEGIN PRIVATE KEY-----" + "' '".repeat(MB / 3),
      '"-----BEGIN PRIVATE KEY-----\\n' + 'A'.repeat(MB),
    ])
  })
})

describe('a value echoed into a command that reads a password from stdin', () => {
  it('redacts it', () => {
    expectRedacted(
      "echo 'pw 1' | docker login --password-stdin -u ci reg",
      ['pw 1'],
      "echo '[REDACTED:password-stdin]' | docker login --password-stdin -u ci reg",
    )
    expectRedacted(
      'echo pw | sudo -S apt update',
      ['pw'],
      'echo [REDACTED:password-stdin] | sudo -S apt update',
    )
    expectRedacted('echo -n hunter2 | sudo -u root -kS systemctl restart x', ['hunter2'])
    expectRedacted(
      "printf '%s\\n' 'p;w' | podman login -u me --password-stdin quay.io && echo ok",
      ['p;w'],
    )
    expectRedacted('echo "T0k 3n" | helm registry login r.io --username u --password-stdin', [
      'T0k 3n',
    ])
    expectRedacted("docker login -u ci --password-stdin reg <<< 'S3cr3t'", ['S3cr3t'])
    expectRedacted('sudo -S true <<< hunter2', ['hunter2'])
    expectRedacted("echo 'alice:Pw1' | sudo chpasswd", ['alice:Pw1'])
    expectRedacted('echo Pw2 | passwd --stdin alice', ['Pw2'])
    expectRedacted('echo s.abcdEFGHijklMNOPqrstUVWX | vault login -', [
      's.abcdEFGHijklMNOPqrstUVWX',
    ])
    expect(
      redactSecrets('echo ghp_abcdefghijklmnopqrstuvwxyz0123456789 | gh auth login --with-token')
        .text,
    ).toBe('echo [REDACTED:github-token] | gh auth login --with-token')
  })

  it('leaves other pipes alone', () => {
    for (const text of [
      'echo y | sudo pacman -S vim',
      'echo $PW | docker login --password-stdin',
      'echo "$REGISTRY_TOKEN" | docker login ghcr.io -u me --password-stdin',
      'cat pw.txt | docker login --password-stdin',
      'aws ecr get-login-password | docker login --password-stdin 1234.dkr.ecr.eu-west-1.amazonaws.com',
      'echo hello || sudo -S ls',
      'echo hi | sudo ls',
      'echo build done | tee log',
      'sudo -S apt update',
      'docker login --password-stdin reg < pw.txt',
    ])
      expectUntouched(text)
  })

  it('stays linear', () => {
    expectLinear([
      'echo a | sudo -S '.repeat(MB / 17),
      'sudo'.padEnd(MB, ' -u'),
      'echo pw |'.repeat(MB / 9) + ' docker login --password-stdin',
      'docker login --password-stdin <<<'.repeat(MB / 34),
      'vault login' + ' -x'.repeat(MB / 3),
    ])
  })
})

/** `n` characters cycling through `alphabet`: a made-up value of a token's shape. */
function fake(alphabet: string, n: number): string {
  let out = ''
  for (let i = 0; i < n; i++) out += alphabet[(i * 7) % alphabet.length]
  return out
}
const HEX = '0123456789abcdef'
const ALNUM = 'aB3dE5gH7jK9mN1pQ2rS4tU6vW8xY0zC'
const BECH32 = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'.toUpperCase()

const providerTokens: Array<[string, string]> = [
  ['telegram-bot-token', `8123456789:AA${fake(ALNUM + '_-', 33)}`],
  ['sentry-token', `sntrys_eyJ${fake(ALNUM, 60)}_${fake(ALNUM, 43)}`],
  ['sentry-token', `sntryu_${fake(HEX, 64)}`],
  ['gitlab-token', `glpat-${fake(ALNUM, 20)}`],
  ['gitlab-token', `glagent-${fake(ALNUM, 50)}`],
  ['npm-token', `npm_${fake(ALNUM, 36)}`],
  ['pypi-token', `pypi-AgEIcHlwaS5vcmc${fake(ALNUM, 60)}`],
  ['pypi-token', `pypi-AgENdGVzdC5weXBpLm9yZw${fake(ALNUM, 60)}`],
  ['huggingface-token', `hf_${fake(ALNUM, 34)}`],
  ['huggingface-token', `api_org_${fake('abcdefghXYZ', 34)}`],
  ['shopify-token', `shpat_${fake(HEX, 32)}`],
  ['shopify-token', `shpss_${fake(HEX, 32)}`],
  ['digitalocean-token', `dop_v1_${fake(HEX, 64)}`],
  ['twilio-key', `SK${fake(HEX, 32)}`],
  ['sendgrid-key', `SG.${fake(ALNUM, 22)}.${fake(ALNUM, 43)}`],
  ['mailgun-key', `key-${fake(HEX, 32)}`],
  ['databricks-token', `dapi${fake(HEX, 32)}`],
  ['databricks-token', `dapi${fake(HEX, 32)}-2`],
  ['azure-client-secret', `aB3${'8'}Q~${fake(ALNUM + '~.', 34)}`],
  ['dockerhub-token', `dckr_pat_${fake(ALNUM, 27)}`],
  ['grafana-token', `glsa_${fake(ALNUM, 32)}_${fake(HEX, 8)}`],
  ['postman-key', `PMAK-${fake(HEX, 24)}-${fake(HEX, 34)}`],
  ['linear-key', `lin_api_${fake(ALNUM, 40)}`],
  ['doppler-token', `dp.pt.${fake(ALNUM, 43)}`],
  ['atlassian-token', `ATATT3${fake(ALNUM, 180)}`],
  ['tailscale-key', `tskey-auth-${fake(ALNUM, 12)}-${fake(ALNUM, 30)}`],
  ['age-secret-key', `AGE-SECRET-KEY-1${fake(BECH32, 58)}`],
  ['groq-key', `gsk_${fake(ALNUM, 52)}`],
  ['google-oauth-secret', `GOCSPX-${fake(ALNUM, 28)}`],
  ['figma-token', `figd_${fake(ALNUM, 40)}`],
  ['rubygems-key', `rubygems_${fake(HEX, 48)}`],
  ['langsmith-key', `lsv2_pt_${fake(HEX, 32)}_${fake(HEX, 10)}`],
  [
    'slack-token',
    `xapp-1-A0${fake('ABCDEF0123456789', 9)}-${fake('0123456789', 13)}-${fake(HEX, 64)}`,
  ],
]

describe('provider tokens', () => {
  it.each(providerTokens)('redacts %s tokens in any position', (kind, token) => {
    for (const text of [
      `curl -H "Authorization: Bearer ${token}" https://api.example.com`,
      `deploy --key ${token}`,
      `printf 'user: bob\\n${token}\\n'`,
      `echo "${token}"`,
    ]) {
      const { text: out, findings } = redactSecrets(text)
      expect(out, text).not.toContain(token)
      expect(out).not.toContain(token.slice(-12))
      if (!text.includes('Bearer')) expect(findings.map((f) => f.kind)).toContain(kind)
    }
  })

  it('redacts Telegram tokens inside bot URLs, keeping the URL', () => {
    const token = `123456789:AA${fake(ALNUM, 33)}`
    expect(
      redactSecrets(`curl -s "https://api.telegram.org/bot${token}/sendMessage?chat_id=42&text=hi"`)
        .text,
    ).toBe(
      'curl -s "https://api.telegram.org/bot[REDACTED:telegram-bot-token]/sendMessage?chat_id=42&text=hi"',
    )
  })

  it('redacts Azure connection-string keys', () => {
    const key = fake(ALNUM + '+/', 86) + '=='
    expectRedacted(
      `az webapp config appsettings set --settings "SB=Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=root;SharedAccessKey=${key}"`,
      [key],
    )
    expectRedacted(
      `export AZ="DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${key};EndpointSuffix=core.windows.net"`,
      [key],
    )
  })

  it('leaves look-alikes alone', () => {
    for (const text of [
      'git checkout 3f9a1c2b7e3d8a6f0b5c9e2d1a7f3b8c6e0d4a9f',
      'git show 3f9a1c2',
      'docker run --name c1 f47ac10b-58cc-4372-a567-0e02b2c3d479',
      'echo sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      'md5sum key-file.pem && ls ~/keys/key-rotation-2024',
      'ls ./dapi-docs/ ./patches/patch-0001.diff',
      'echo $DATABRICKS_TOKEN $SHOPIFY_ACCESS_TOKEN $TELEGRAM_BOT_TOKEN',
      'curl https://api.telegram.org/bot$TELEGRAM_TOKEN/getMe',
      'curl https://api.telegram.org/bot<token>/getMe',
      'date +%H:%M:%S && echo 12:34:56 && ping 2001:db8::1',
      'echo "shpat_xxx" "hf_your_token_here" "glpat-<your-token>"',
      'set -x SENTRY_ORG my-org',
      'terraform plan -var-file=prod.tfvars',
      'pip install --index-url https://test.pypi.org/simple/ pkg',
    ])
      expectUntouched(text)
  })

  it('stays linear on prefix-heavy input', () => {
    expectLinear([
      'sntrys_eyJ'.repeat(MB / 10),
      'bot1234567:'.repeat(MB / 11),
      '1'.repeat(MB) + ':A',
      'key-'.repeat(MB / 4),
      'aaa1Q~'.repeat(MB / 6),
      'dp.pt.'.repeat(MB / 6),
      'sk.eyJ' + 'a'.repeat(MB),
      'a'.repeat(MB) + '.atlasv1.',
      'tskey-a-'.repeat(MB / 8),
      'AccountKey='.repeat(MB / 11),
    ])
  })
})
