import type { CommandView, Rule } from '../rule'
import { parseOptions } from '../options'
import { classifyPath } from '../paths'
import { DYN, type Arg } from '../types'
import { emitFanOut } from './fan-out'

const RUN_VALUE_OPTS = [
  'volume',
  'mount',
  'env',
  'env-file',
  'publish',
  'name',
  'entrypoint',
  'network',
  'net',
  'label',
  'restart',
  'memory',
  'cpus',
  'device',
  'cap-add',
  'cap-drop',
  'pid',
  'ipc',
  'platform',
  'workdir',
  'user',
  'hostname',
  'add-host',
  'dns',
  'log-driver',
  'log-opt',
  'tmpfs',
  'shm-size',
  'ulimit',
  'security-opt',
  'gpus',
  'runtime',
  'attach',
  'cidfile',
  'stop-signal',
  'health-cmd',
  'userns',
  'uts',
  'cgroupns',
  'expose',
  'link',
  'volumes-from',
  'group-add',
  'pull',
  'detach-keys',
  'context',
  'host',
]
const EXEC_VALUE_OPTS = ['env', 'env-file', 'user', 'workdir', 'detach-keys']

/** Host directories mounted into the container: `-v /:/host`, `--mount type=bind,source=/,target=/host`. */
function hostMounts(args: Arg[]): Array<{ host: string; inner: string; arg: Arg }> {
  const mounts: Array<{ host: string; inner: string; arg: Arg }> = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    let spec: string | null = null
    if (a.value === '-v' || a.value === '--volume') spec = args[i + 1]?.value ?? null
    else if (/^(-v|--volume=)/.test(a.value)) spec = a.value.replace(/^(-v|--volume=)/, '')
    if (spec !== null) {
      const [host, inner] = spec.split(':')
      if (host && inner && /^[/~.$]/.test(host))
        mounts.push({
          host: classifyPath(host).path,
          inner,
          arg: args[i + 1] && a.value.length <= 2 ? args[i + 1]! : a,
        })
      continue
    }
    const m =
      a.value === '--mount'
        ? args[i + 1]?.value
        : a.value.startsWith('--mount=')
          ? a.value.slice(8)
          : null
    if (m) {
      const src = /(?:source|src)=([^,]+)/.exec(m)?.[1]
      const dst = /(?:target|destination|dst)=([^,]+)/.exec(m)?.[1]
      if (src && dst && /bind/.test(m))
        mounts.push({ host: classifyPath(src).path, inner: dst, arg: a })
    }
  }
  return mounts
}

function runLike(c: CommandView, verb: Arg, rest: Arg[], kind: 'run' | 'exec'): void {
  const opts = parseOptions(rest, {
    shortWithValue: kind === 'run' ? 'veplwuhmcaL' : 'euw',
    longWithValue: kind === 'run' ? RUN_VALUE_OPTS : EXEC_VALUE_OPTS,
    stopAtOperand: true,
  })
  const [image, ...inner] = opts.operands
  const privileged = opts.long.has('privileged')
  const hostNs = ['pid', 'net', 'network', 'ipc', 'uts', 'userns'].some(
    (k) => opts.long.get(k) === 'host',
  )
  const caps = String(opts.long.get('cap-add') ?? '')
  const mounts = kind === 'run' ? hostMounts(rest) : []
  const dangerousMount = mounts.find(
    (m) =>
      ['root', 'system-top', 'home', 'homes'].includes(classifyPath(m.host).kind) ||
      /docker\.sock/.test(m.host),
  )
  if (privileged || /ALL|SYS_ADMIN/.test(caps)) {
    c.emit(
      'container.privileged',
      'high',
      'Runs a privileged container, which has full control of the host',
      rest.find((a) => /privileged|cap-add/.test(a.value)) ?? verb,
    )
  } else if (dangerousMount) {
    c.emit(
      'container.host-mount',
      'high',
      `Mounts the host's ${dangerousMount.host} into the container`,
      dangerousMount.arg,
    )
  } else if (hostNs) {
    c.emit(
      'container.host-namespace',
      'moderate',
      'Shares a host namespace with the container',
      verb,
    )
  } else if (kind === 'run') {
    c.emit(
      'container.run',
      'moderate',
      `Starts a container from ${image?.value.replaceAll(DYN, '$IMAGE') ?? 'an image'}`,
      verb,
    )
  }
  if (inner.length) {
    const container = {
      hostMounts: mounts.map(({ host, inner: i }) => ({ host, inner: i })),
      privileged: privileged || /ALL|SYS_ADMIN/.test(caps),
      // `exec` enters a running container whose volumes (and data) are unknown.
      existing: kind === 'exec',
    }
    c.engine.runWords(inner, c.cmd, c.ctx, `${c.name} ${kind}`, { container, cwd: null })
  }
}

const docker: Rule = (c) => {
  const opts = parseOptions(c.args, {
    shortWithValue: 'Hc',
    longWithValue: ['host', 'context', 'config', 'log-level'],
    stopAtOperand: true,
  })
  let [verb, ...rest] = opts.operands
  if (!verb) return
  // `docker container rm` == `docker rm`, `docker image prune` == image prune.
  let group = ''
  if (
    /^(container|image|volume|network|system|builder|buildx|compose|swarm|node|service|stack|secret|config|plugin|context)$/.test(
      verb.value,
    ) &&
    rest[0]
  ) {
    group = verb.value
    verb = rest[0]
    rest = rest.slice(1)
  }
  const v = verb.value
  const all = rest.some(
    (a) => /^-(a|-all)$/.test(a.value) || (/^-[a-z]*a[a-z]*$/.test(a.value) && group !== 'compose'),
  )
  const dynamic = rest.some((a) => a.value.includes(DYN))
  const emit = (id: string, risk: 'moderate' | 'high' | 'critical', msg: string) =>
    c.emit(id, risk, msg, verb, { prod: true })
  if (v === 'run' || v === 'create') return runLike(c, verb, rest, 'run')
  if (v === 'exec' && group !== 'compose') return runLike(c, verb, rest, 'exec')
  if (group === 'compose') {
    if (v === 'down')
      return emit(
        'container.compose.down',
        rest.some((a) => /^(-v|--volumes)$/.test(a.value)) ? 'high' : 'moderate',
        `Stops and removes the compose project${rest.some((a) => /^(-v|--volumes)$/.test(a.value)) ? ' and deletes its volumes' : ''}`,
      )
    if (v === 'rm')
      return emit('container.compose.rm', 'moderate', 'Removes stopped compose containers')
    if (v === 'exec' || v === 'run') {
      const words = parseOptions(rest, {
        shortWithValue: 'euw',
        longWithValue: EXEC_VALUE_OPTS,
        stopAtOperand: true,
      }).operands.slice(1)
      if (words.length)
        c.engine.runWords(words, c.cmd, c.ctx, `compose ${v}`, {
          container: { hostMounts: [], privileged: false, existing: v === 'exec' },
          cwd: null,
        })
      return
    }
    if (/^(ps|logs|config|ls|images|top|version|port|events)$/.test(v)) return
    return emit('container.compose', 'moderate', `docker compose ${v}`)
  }
  if (v === 'prune') {
    const volumes = rest.some((a) => a.value === '--volumes') || group === 'volume'
    return emit(
      `container.prune.${group || 'system'}`,
      volumes || group === 'system' || all ? 'high' : 'moderate',
      `Deletes ${all ? 'all unused' : 'dangling'} ${group || 'containers, networks and images'}${volumes ? ' including volumes (data)' : ''}`,
    )
  }
  if (v === 'rm' || v === 'rmi' || (v === 'remove' && group)) {
    if (group === 'volume')
      return emitFanOut(
        c,
        'container.volume.rm',
        'high',
        'Deletes volumes and the data in them',
        verb,
      )
    if (dynamic || all)
      return emit('container.rm.all', 'high', 'Removes many containers or images at once')
    return emit(
      'container.rm',
      'moderate',
      `Removes ${group === 'image' || v === 'rmi' ? 'images' : group === 'network' ? 'networks' : 'containers'}`,
    )
  }
  if (
    /^(kill|stop|restart|pause|unpause|start|update|rename|tag|pull|push|build|load|import|commit|login|logout|cp|attach|save|plugin|connect|disconnect|scale|rollback|leave|init|join|deploy|up)$/.test(
      v,
    )
  ) {
    if (v === 'leave' && rest.some((a) => a.value === '--force' || a.value === '-f'))
      return emit('container.swarm.leave', 'high', 'Forces this node out of the swarm')
    return emit(`container.${v}`, 'moderate', `${c.name} ${group ? group + ' ' : ''}${v}`)
  }
}

export const containerRules: Record<string, Rule> = { docker, podman: docker, nerdctl: docker }
