import type { CommandView, Rule } from '../rule'
import { parseOptions } from '../options'
import { DYN, type Arg } from '../types'
import { emitSecretLeaves, SECRET_PATH } from './exposure'
import { emitFanOut } from './fan-out'

const PUBLIC_ACL = /^(public-read|public-read-write|authenticated-read)$/
const ADMIN_POLICY = /AdministratorAccess|IAMFullAccess|PowerUserAccess|:policy\/\*|FullAccess$/
const OPEN_CIDR = /(^|[=,\s"'])(0\.0\.0\.0\/0|::\/0|\*|Internet|Any)([,\s"']|$)/

const ADMIN_ROLE =
  /^(roles\/(owner|editor|[\w.]*admin\w*)|Owner|Contributor|User Access Administrator|cluster-admin|admin)$/i
/** Members that stand for anyone at all, signed in or not (`system:authenticated` is not one). */
const ANYONE = /^(allUsers|allAuthenticatedUsers|system:anonymous|system:unauthenticated)$/

function grantsRole(c: CommandView, text: string): boolean {
  return (
    /add-iam-policy-binding|role assignment create|create (cluster)?rolebinding|create-role-binding/.test(
      text,
    ) ||
    (c.name === 'az' && c.args.some((a) => a.value === 'assignment'))
  )
}

/**
 * Owner, editor or cluster-admin granted to everyone (`--member=allUsers`,
 * `--user=system:anonymous`): anyone on the network controls the project or cluster.
 */
function publicAdmin(
  c: CommandView,
  flag: (name: string) => string | undefined,
  text: string,
  at: Arg | null,
): boolean {
  if (!grantsRole(c, text)) return false
  const role = flag('--role') ?? flag('--clusterrole') ?? ''
  const member = ['--member', '--user', '--group', '--assignee']
    .map(flag)
    .find((m) => m !== undefined && ANYONE.test(m))
  if (!member || !ADMIN_ROLE.test(role)) return false
  c.emit(
    'cloud.iam.public-admin',
    'critical',
    `Grants the ${role} role (full control) to ${member}: anyone who can reach it takes over`,
    at,
  )
  return true
}

/** Making storage public, granting administrator rights, opening a firewall to the world. */
function exposure(c: CommandView, at: Arg | null): boolean {
  const values = c.args.map((a) => a.value)
  const text = values.join(' ')
  const flag = (name: string) => {
    const i = values.findIndex((v) => v === name || v.startsWith(name + '='))
    if (i < 0) return undefined
    const v = values[i]!
    return v.includes('=') ? v.slice(v.indexOf('=') + 1) : values[i + 1]
  }
  const acl = flag('--acl') ?? flag('--canned-acl') ?? flag('--predefined-acl')
  if (acl && (PUBLIC_ACL.test(acl) || /^(publicRead|publicReadWrite|allUsers)/i.test(acl))) {
    c.emit(
      'cloud.public',
      'high',
      `Makes stored data readable by anyone on the internet (${acl})`,
      at,
    )
    return true
  }
  if (publicAdmin(c, flag, text, at)) return true
  if (
    /"Principal"\s*:\s*("\*"|\{\s*"AWS"\s*:\s*"\*"\s*\})|\ballUsers\b|\ballAuthenticatedUsers\b|\bAllUsers\b|global\/AllUsers/.test(
      text,
    )
  ) {
    c.emit('cloud.public', 'high', 'Grants access to everyone on the internet', at)
    return true
  }
  if (
    /\b(delete-public-access-block|delete-bucket-public-access-block)\b/.test(text) ||
    /BlockPublic\w+=false/i.test(text) ||
    /--public-access\s+(blob|container)\b|--public-access=(blob|container)\b|--allow-blob-public-access(\s+|=)true/.test(
      text,
    )
  ) {
    c.emit('cloud.public', 'high', 'Turns off the protection that keeps storage private', at)
    return true
  }
  if (
    /attach-(user|role|group)-policy|put-(user|role|group)-policy|create-policy-version/.test(text)
  ) {
    if (ADMIN_POLICY.test(text) || /"Action"\s*:\s*"\*"/.test(text)) {
      c.emit(
        'cloud.iam.admin',
        'high',
        'Grants full administrator rights over the cloud account',
        at,
      )
      return true
    }
  }
  const role = flag('--role') ?? flag('--clusterrole') ?? ''
  if (grantsRole(c, text)) {
    if (ADMIN_ROLE.test(role)) {
      c.emit('cloud.iam.admin', 'high', `Grants the ${role} role (full control)`, at)
      return true
    }
  }
  if (
    /authorize-security-group-ingress|firewall-rules (create|update)|nsg rule (create|update)|security-rules create|firewall create/.test(
      text,
    ) ||
    (c.name === 'az' && values.includes('nsg'))
  ) {
    const sources = [
      flag('--cidr'),
      flag('--cidr-ip'),
      flag('--source-ranges'),
      flag('--source-address-prefixes'),
      flag('--ip-permissions'),
    ].join(' ')
    if (OPEN_CIDR.test(` ${sources} `) || /CidrIp=0\.0\.0\.0\/0/.test(text)) {
      c.emit('net.firewall.open', 'high', 'Opens the firewall to the whole internet', at)
      return true
    }
  }
  return false
}

const KUBE_VALUE_OPTS = [
  'namespace',
  'context',
  'cluster',
  'user',
  'selector',
  'filename',
  'output',
  'container',
  'kubeconfig',
  'field-selector',
  'timeout',
  'server',
  'token',
  'grace-period',
  'type',
  'image',
  'replicas',
  'port',
  'from-literal',
  'from-file',
  'revision',
  'to-revision',
  'patch',
  'for',
]
const KUBE_READ =
  /^(get|describe|logs|explain|top|version|api-resources|api-versions|cluster-info|diff|events|wait|auth|completion|kustomize|plugin|options|alpha)$/

function isDryRun(c: CommandView): boolean {
  return c.args.some(
    (a) =>
      /^--dry-?run(=(client|server|true))?$/.test(a.value) ||
      a.value === '--dryrun' ||
      a.value === 'plan',
  )
}

/** Pods are recreated by their controllers: deleting all of them is an outage, not data loss. */
function podsOnly(c: CommandView, kind: Arg | undefined): boolean {
  if (/^(po|pod|pods)$/.test(kind?.value ?? '') || /^pods?\//.test(kind?.value ?? '')) return true
  const stdin = c.cmd.stdin
  const pipeline = 'pipeline' in stdin ? (stdin.pipeline ?? []) : []
  return pipeline.some((p) => p.words.some((w) => /^(po|pod|pods)$/.test(w.value)))
}

const kubectl: Rule = (c) => {
  const opts = parseOptions(c.args, { shortWithValue: 'nlfocsp', longWithValue: KUBE_VALUE_OPTS })
  const [verb, kind, ...names] = opts.operands
  if (!verb || KUBE_READ.test(verb.value)) return
  if (verb.value === 'config') {
    if (
      /^(set|set-context|set-cluster|set-credentials|use-context|use|delete-context|delete-cluster|delete-user|rename-context|unset)$/.test(
        kind?.value ?? '',
      )
    )
      c.emit('k8s.config', 'moderate', `Changes kubeconfig (${kind!.value})`, verb)
    return
  }
  if (verb.value === 'exec' || verb.value === 'debug' || verb.value === 'attach') {
    const dd = c.args.findIndex((a) => a.value === '--')
    const inner = dd >= 0 ? c.args.slice(dd + 1) : []
    if (verb.value === 'debug' && c.args.some((a) => /^node\//.test(a.value)))
      c.emit(
        'k8s.debug-node',
        'high',
        'Opens a privileged debugging container on a node (host file system under /host)',
        verb,
        { prod: true },
      )
    if (inner.length)
      c.engine.runWords(inner, c.cmd, c.ctx, `kubectl ${verb.value}`, {
        // An existing pod: its volumes (and the data on them) are unknown.
        container: { hostMounts: [], privileged: false, existing: true },
        cwd: null,
      })
    return
  }
  if (verb.value === 'create' && exposure(c, verb)) return
  if (isDryRun(c)) return
  const all = opts.long.has('all') || names.some((n) => n.value === '--all')
  const allNs = opts.short.has('A') || opts.long.has('all-namespaces')
  if (verb.value === 'delete') {
    const what = `${kind?.value ?? ''} ${names.map((n) => n.value).join(' ')}`.trim()
    if (allNs && (all || opts.values.has('l')))
      return c.emit(
        'k8s.delete.cluster-wide',
        'critical',
        `Deletes ${what || 'resources'} across every namespace`,
        verb,
        { prod: true },
      )
    if (
      /^(ns|namespace|namespaces)$/.test(kind?.value ?? '') &&
      (all || names.some((n) => /^(kube-system|kube-public|default)$/.test(n.value)))
    )
      return c.emit(
        'k8s.delete.system-namespace',
        'critical',
        `Deletes the namespace ${names.map((n) => n.value).join(' ') || 'all namespaces'} and everything in it`,
        verb,
        { prod: true },
      )
    if (
      /^(ns|namespace|namespaces|node|nodes|no|pv|persistentvolume|persistentvolumes|pvc|persistentvolumeclaim|crd|customresourcedefinition|customresourcedefinitions)$/.test(
        kind?.value ?? '',
      ) ||
      all
    ) {
      return emitFanOut(
        c,
        'k8s.delete.broad',
        'high',
        `Deletes ${all ? 'all ' : ''}${what} and what depends on it`,
        verb,
      )
    }
    return emitFanOut(
      c,
      'k8s.delete',
      'high',
      `Deletes ${what || 'resources'}${opts.values.has('f') ? ` defined in ${opts.values.get('f')}` : ''}`,
      verb,
      podsOnly(c, kind),
    )
  }
  if (verb.value === 'drain')
    return c.emit('k8s.drain', 'high', `Evicts every pod from node ${kind?.value ?? ''}`, verb, {
      prod: true,
    })
  if (verb.value === 'replace' && opts.long.has('force'))
    return c.emit('k8s.replace.force', 'high', 'Deletes and recreates resources', verb, {
      prod: true,
    })
  if (
    verb.value === 'scale' &&
    /^--replicas=0$/.test(c.args.find((a) => a.value.startsWith('--replicas'))?.value ?? '')
  )
    return c.emit('k8s.scale.zero', 'high', 'Scales a workload down to zero (outage)', verb, {
      prod: true,
    })
  if (verb.value === 'port-forward' || verb.value === 'proxy' || verb.value === 'cp')
    return c.emit(`k8s.${verb.value}`, 'moderate', `kubectl ${verb.value}`, verb)
  c.emit(
    `k8s.${verb.value}`,
    'moderate',
    `Changes the cluster (kubectl ${verb.value}${kind ? ' ' + kind.value : ''})`,
    verb,
    { prod: true },
  )
}

const helm: Rule = (c) => {
  const opts = parseOptions(c.args, {
    shortWithValue: 'nfo',
    longWithValue: [
      'namespace',
      'values',
      'set',
      'version',
      'kube-context',
      'repo',
      'output',
      'timeout',
    ],
  })
  const verb = opts.operands[0]
  if (
    !verb ||
    /^(list|ls|status|get|history|hist|show|inspect|search|template|lint|version|env|verify|completion|help)$/.test(
      verb.value,
    ) ||
    isDryRun(c)
  )
    return
  if (
    verb.value === 'repo' ||
    verb.value === 'dependency' ||
    verb.value === 'dep' ||
    verb.value === 'plugin'
  ) {
    if (/^(add|update|up|remove|rm|build|install|uninstall)$/.test(opts.operands[1]?.value ?? ''))
      c.emit('helm.config', 'moderate', `helm ${verb.value} ${opts.operands[1]!.value}`, verb)
    return
  }
  if (/^(uninstall|delete|del|un)$/.test(verb.value))
    return emitFanOut(
      c,
      'helm.uninstall',
      'high',
      `Uninstalls the release ${(opts.operands[1]?.value ?? '').replaceAll(DYN, '$RELEASE')} and its resources`,
      verb,
    )
  c.emit(`helm.${verb.value}`, 'moderate', `Changes a release (helm ${verb.value})`, verb, {
    prod: true,
  })
}

const terraform: Rule = (c) => {
  let i = 0
  while (i < c.args.length && c.args[i]!.value.startsWith('-')) i++
  const verb = c.args[i]
  const rest = c.args.slice(i + 1).map((a) => a.value)
  if (!verb) return
  const v = verb.value
  const auto = rest.some((w) => /^-?-auto-approve(=true)?$/.test(w))
  if (v === 'destroy' || (v === 'apply' && rest.includes('-destroy'))) {
    return c.emit(
      'tf.destroy',
      auto ? 'critical' : 'high',
      `Destroys every resource in the configuration${auto ? ' without asking' : ''}`,
      verb,
      { prod: true },
    )
  }
  if (v === 'apply')
    return c.emit(
      auto ? 'tf.apply.auto' : 'tf.apply',
      auto ? 'high' : 'moderate',
      `Changes real infrastructure${auto ? ' without showing the plan first' : ''}`,
      verb,
      { prod: true },
    )
  if (v === 'state' && /^(rm|mv|push|replace-provider)$/.test(rest[0] ?? ''))
    return c.emit(
      'tf.state',
      'high',
      `Edits the Terraform state directly (state ${rest[0]})`,
      verb,
      { prod: true },
    )
  if (v === 'workspace' && rest[0] === 'delete')
    return c.emit('tf.workspace.delete', 'high', 'Deletes a Terraform workspace', verb, {
      prod: true,
    })
  if (
    /^(import|taint|untaint|force-unlock|refresh)$/.test(v) ||
    (v === 'workspace' && /^(new|select)$/.test(rest[0] ?? ''))
  )
    return c.emit(`tf.${v}`, 'moderate', `terraform ${v}`, verb, { prod: true })
}

const pulumi: Rule = (c) => {
  const v = c.opts().operands[0]?.value ?? ''
  const yes = c.args.some((a) => /^(-y|--yes|--skip-preview)$/.test(a.value))
  if (v === 'destroy')
    c.emit(
      'iac.destroy',
      yes ? 'critical' : 'high',
      'Destroys every resource of the stack',
      c.nameArg,
      { prod: true },
    )
  else if (v === 'up' || v === 'update')
    c.emit('iac.apply', yes ? 'high' : 'moderate', 'Changes real infrastructure', c.nameArg, {
      prod: true,
    })
  else if (v === 'stack' && c.args.some((a) => a.value === 'rm'))
    c.emit('iac.stack.rm', 'high', 'Removes a stack and its state', c.nameArg, { prod: true })
}

const READ_OP =
  /^(describe|get|list|ls|head|show|lookup|search|scan|query|batch-get|estimate|validate|test|simulate|check|preview|download|wait|help|info|print|export|read|view|tail|whoami|version)/
const DESTROY_OP =
  /^(delete|terminate|remove|deregister|purge|destroy|revoke|rb|rm|disable|detach|cancel|stop|reset|drop|close|undeploy|uninstall|release)/

/** aws SERVICE OPERATION: describe/list are safe, delete/terminate are destructive. */
const aws: Rule = (c) => {
  const opts = parseOptions(c.args, {
    longWithValue: [
      'profile',
      'region',
      'output',
      'query',
      'endpoint-url',
      'bucket',
      'key',
      'instance-ids',
      'cli-input-json',
      'color',
    ],
  })
  const [service, op, ...rest] = opts.operands
  if (!service || !op) return
  if (c.args.some((a) => /^--(dry-run|dryrun)$/.test(a.value))) return
  if (exposure(c, op)) return
  const s = service.value
  const o = op.value
  const recursive = c.args.some((a) => a.value === '--recursive')
  if (s === 's3') {
    if (o === 'ls' || o === 'presign') return
    const secret = rest.find((a) => SECRET_PATH.test(a.value))
    if (/^(cp|mv|sync)$/.test(o) && secret && !secret.value.startsWith('s3://'))
      return emitSecretLeaves(c, secret, 'Uploads', 'S3')
    if (o === 'rm')
      return emitFanOut(
        c,
        'cloud.aws.s3.rm',
        recursive ? 'high' : 'moderate',
        `Deletes ${recursive ? 'everything under ' : ''}${(rest[0]?.value ?? 'objects').replaceAll(DYN, '$BUCKET')} from S3`,
        op,
      )
    if (o === 'rb')
      return emitFanOut(
        c,
        'cloud.aws.s3.rb',
        c.args.some((a) => a.value === '--force') ? 'high' : 'moderate',
        `Deletes the bucket ${(rest[0]?.value ?? '').replaceAll(DYN, '$BUCKET')}`,
        op,
      )
    if (o === 'sync' && c.args.some((a) => a.value === '--delete'))
      return c.emit(
        'cloud.aws.s3.sync-delete',
        'high',
        'Deletes files at the destination that are not in the source',
        op,
        { prod: true },
      )
    return c.emit('cloud.aws.s3.write', 'moderate', `Writes to S3 (s3 ${o})`, op, { prod: true })
  }
  if (/^(close-account|delete-organization|leave-organization)$/.test(o))
    return c.emit(
      'cloud.account.close',
      'critical',
      `Closes or detaches a whole AWS account (${o})`,
      op,
    )
  if (READ_OP.test(o)) return
  if (DESTROY_OP.test(o)) {
    const stop = /^(stop|disable|detach|cancel)/.test(o)
    return emitFanOut(
      c,
      `cloud.aws.${stop ? 'stop' : 'delete'}`,
      stop ? 'moderate' : 'high',
      `${o} on ${s}: ${/snapshot|backup|recovery-point/.test(o) ? 'deletes backups' : 'removes cloud resources'}`,
      op,
    )
  }
  c.emit('cloud.aws.change', 'moderate', `Changes cloud resources (${s} ${o})`, op, { prod: true })
}

const gcloudLike =
  (tool: string): Rule =>
  (c) => {
    const opts = parseOptions(c.args, {
      longWithValue: [
        'project',
        'zone',
        'region',
        'format',
        'filter',
        'account',
        'configuration',
        'subscription',
        'resource-group',
        'name',
        'location',
        'query',
        'output',
      ],
    })
    const words = opts.operands.map((o) => o.value)
    const idx = words.findIndex(
      (w) =>
        DESTROY_OP.test(w) ||
        READ_OP.test(w) ||
        /^(create|update|deploy|set|add|apply|run|start|restart|import|resize|scale|login|logout|reset|patch|replace|move|copy|cp|mv|upload|invoke|submit|enable|attach|stop|open|assign|tag)/.test(
          w,
        ),
    )
    if (c.args.some((a) => /^--(dry-run|validate-only|what-if)$/.test(a.value))) return
    if (exposure(c, opts.operands[0] ?? null)) return
    if (idx < 0) return
    const verb = words[idx]!
    const at = opts.operands[idx]!
    const groups = words.slice(0, idx).join(' ')
    const quiet = c.args.some((a) => /^(--quiet|-q|--yes|-y)$/.test(a.value))
    if (READ_OP.test(verb) && !/^reset/.test(verb)) return
    if (/^delete/.test(verb) && /^(projects|organizations|account|group|billing)/.test(groups)) {
      const account = /^(projects|organizations|account)/.test(groups)
      return emitFanOut(
        c,
        `cloud.${tool}.delete-container`,
        account ? 'critical' : 'high',
        `Deletes ${groups.replace(/s$/, '')} ${(words[idx + 1] ?? '').replaceAll(DYN, '$NAME')} and every resource in it`.replace(
          /\s+/g,
          ' ',
        ),
        at,
      )
    }
    if (DESTROY_OP.test(verb) && !/^(disable|detach|cancel|stop|reset)/.test(verb)) {
      return emitFanOut(
        c,
        `cloud.${tool}.delete`,
        'high',
        `Deletes cloud resources (${groups} ${verb})${quiet ? ' without asking' : ''}`,
        at,
      )
    }
    c.emit(
      `cloud.${tool}.change`,
      'moderate',
      `Changes cloud resources (${groups} ${verb})`.replace(' )', ')'),
      at,
      { prod: true },
    )
  }

const gsutil: Rule = (c) => {
  const opts = parseOptions(c.args, { shortWithValue: 'ohp' })
  const [verb, ...rest] = opts.operands
  if (!verb || /^(ls|cat|du|stat|hash|version|help|ver)$/.test(verb.value)) return
  if (
    /^(iam|acl|defacl|cors|label|lifecycle|logging|versioning|web)$/.test(verb.value) &&
    /^get$/.test(rest[0]?.value ?? '')
  )
    return
  if (exposure(c, verb)) return
  const recursive = c.args.some((a) => /^-[a-zA-Z]*r/i.test(a.value))
  if (verb.value === 'rm')
    return emitFanOut(
      c,
      'cloud.gcs.rm',
      recursive || rest.some((r) => r.value.includes('*')) ? 'high' : 'moderate',
      `Deletes ${rest.map((r) => r.value.replaceAll(DYN, '$NAME')).join(' ')} from Cloud Storage`,
      verb,
    )
  if (verb.value === 'rb') return emitFanOut(c, 'cloud.gcs.rb', 'high', 'Deletes a bucket', verb)
  if (verb.value === 'rsync' && c.args.some((a) => /^-[a-zA-Z]*d/.test(a.value)))
    return c.emit(
      'cloud.gcs.rsync-delete',
      'high',
      'Deletes objects at the destination that are not in the source',
      verb,
      { prod: true },
    )
  c.emit('cloud.gcs.write', 'moderate', `Writes to Cloud Storage (gsutil ${verb.value})`, verb, {
    prod: true,
  })
}

const simpleDestroy =
  (tool: string): Rule =>
  (c) => {
    const text = c.args.map((a) => a.value.replaceAll(DYN, '')).join(' ')
    if (/\b(destroy|delete|remove|rm|apps:destroy|projects:delete|pg:reset|teardown)\b/.test(text))
      emitFanOut(c, `cloud.${tool}.delete`, 'high', `Deletes resources with ${tool}`, c.nameArg)
    else if (
      /\b(deploy|create|scale|restart|set|update|releases:rollback|config:set|apply|up)\b/.test(
        text,
      )
    )
      c.emit(`cloud.${tool}.change`, 'moderate', `Changes resources with ${tool}`, c.nameArg, {
        prod: true,
      })
  }

export const cloudRules: Record<string, Rule> = {
  kubectl,
  oc: kubectl,
  k: kubectl,
  helm,
  terraform,
  tofu: terraform,
  terragrunt: terraform,
  pulumi,
  aws,
  gcloud: gcloudLike('gcloud'),
  az: gcloudLike('az'),
  gsutil,
  doctl: simpleDestroy('doctl'),
  heroku: simpleDestroy('heroku'),
  fly: simpleDestroy('fly'),
  flyctl: simpleDestroy('fly'),
  vercel: simpleDestroy('vercel'),
  netlify: simpleDestroy('netlify'),
  firebase: simpleDestroy('firebase'),
  linode: simpleDestroy('linode'),
}
