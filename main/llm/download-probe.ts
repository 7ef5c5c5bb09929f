import { CmdaiError } from '../../contract'

/**
 * One quick request to a model's host before the downloader starts. node-llama-cpp's downloader
 * (ipull) retries a failed connection about 150 times with back-off, so a refused port, a host
 * that does not resolve or a 404 would sit at "Checking 0%" for minutes. This probe fails in
 * seconds with the reason instead; the downloader's own retries still cover drops mid-download.
 */

export interface ProbeOptions {
  signal?: AbortSignal
  /** How long the host may take to answer. */
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
}

/** The shapes `cmdai models pull` and the model manager accept, besides catalog ids. */
export function isModelUri(uri: string): boolean {
  return /^(hf:|hf:\/\/|huggingface:|https?:\/\/)\S+$/i.test(uri)
}

/**
 * The URL a model URI downloads from, as node-llama-cpp resolves it for `hf:user/repo/file.gguf`
 * (HF_ENDPOINT / MODEL_ENDPOINT honoured); for other `hf:` forms (tags resolved through the
 * Hugging Face API) the endpoint itself, so at least the connection is checked.
 */
export function probeUrlOf(uri: string, env: NodeJS.ProcessEnv = process.env): string {
  if (/^https?:\/\//i.test(uri)) return uri
  const endpoint = withSlash(env.MODEL_ENDPOINT ?? env.HF_ENDPOINT ?? 'https://huggingface.co/')
  const rest = uri.replace(/^(hf:\/\/|hf:|huggingface:)/i, '')
  const [user, repo, ...path] = rest.split('/')
  if (!user || !repo || path.length === 0 || /[:#]/.test(rest)) return endpoint
  const encoded = [user, repo].map(encodeURIComponent).join('/')
  return `${endpoint}${encoded}/resolve/main/${path.map(encodeURIComponent).join('/')}`
}

/** Throws a CmdaiError saying why `url` cannot be downloaded from right now; resolves when it can. */
export async function probeDownload(url: string, options: ProbeOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 15_000
  const timeout = AbortSignal.timeout(timeoutMs)
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout
  const where = describeHost(url)
  let response: Response
  try {
    response = await fetch(url, { method: 'HEAD', redirect: 'follow', signal })
    // Some servers do not answer HEAD; a one-byte GET says the same.
    if (response.status === 405 || response.status === 501) {
      response = await fetch(url, { headers: { range: 'bytes=0-0' }, redirect: 'follow', signal })
      await response.body?.cancel()
    }
  } catch (err) {
    if (options.signal?.aborted)
      throw new CmdaiError('cancelled', 'The download was cancelled; pull again to resume')
    if (timeout.aborted)
      throw new CmdaiError('timeout', `${where} did not answer within ${timeoutMs / 1000} s`)
    throw new CmdaiError('unavailable', networkReason(err, where))
  }
  if (response.ok) return
  throw new CmdaiError(
    response.status === 404
      ? 'not_found'
      : response.status === 401 || response.status === 403
        ? 'forbidden'
        : 'unavailable',
    httpReason(response.status, url),
  )
}

function httpReason(status: number, url: string): string {
  const what = `${url} answered HTTP ${status}`
  if (status === 404) return `${what}: there is no such file there`
  if (status === 401 || status === 403)
    return `${what}: it needs permission (a gated or private model needs an access token)`
  if (status === 429) return `${what}: too many requests; try again in a while`
  if (status >= 500) return `${what}: the server has a problem; try again later`
  return what
}

/** The reason a request never got an HTTP answer, from Node's (undici's) error codes. */
function networkReason(err: unknown, where: string): string {
  const cause = (err as { cause?: { code?: string; message?: string } } | null)?.cause
  const code = cause?.code ?? ''
  const message = cause?.message ?? (err instanceof Error ? err.message : String(err))
  if (code === 'ECONNREFUSED') return `Could not connect to ${where}: the connection was refused`
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME')
    return `Could not find the host of ${where} (no DNS answer: is this machine offline?)`
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE')
    return `${where} closed the connection before answering`
  if (code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT')
    return `Connecting to ${where} timed out`
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH')
    return `${where} cannot be reached from this network`
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/i.test(`${code} ${message}`))
    return `The secure connection to ${where} failed: its certificate is not trusted (${code || message})`
  if (/bad port/i.test(message)) return `${where} uses a port that downloads may not use`
  return `Could not reach ${where}: ${code || message}`
}

function describeHost(url: string): string {
  try {
    return new URL(url).host
  } catch {
    return url
  }
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`
}
