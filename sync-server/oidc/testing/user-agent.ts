/**
 * A small browser for tests that go through the IdP's own pages without Chromium: it keeps
 * cookies per host, follows redirects one by one (recording them), and submits a page's form the
 * way a person pressing its button would (the form's own fields, plus the ones given).
 */
export interface Page {
  url: string
  status: number
  html: string
  location: string | null
  /** Every URL visited, redirects included. */
  trail: string[]
  setCookies: string[]
}

export class UserAgent {
  private readonly jar = new Map<string, Map<string, string>>()

  /** Follows redirects until a page answers, or `stop` says the next URL is not ours to open. */
  async open(
    url: string,
    init: { method?: string; body?: URLSearchParams } = {},
    stop: (url: URL) => boolean = () => false,
  ): Promise<Page> {
    const trail: string[] = []
    const setCookies: string[] = []
    let current = new URL(url)
    let method = init.method ?? 'GET'
    let body = init.body
    for (let hop = 0; hop < 25; hop++) {
      trail.push(current.href)
      const res = await fetch(current, {
        method,
        redirect: 'manual',
        headers: {
          ...(this.cookieHeader(current) ? { cookie: this.cookieHeader(current)! } : {}),
          ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        ...(body ? { body: body.toString() } : {}),
      })
      const cookies = res.headers.getSetCookie()
      setCookies.push(...cookies)
      this.store(current, cookies)
      const location = res.headers.get('location')
      if (res.status >= 300 && res.status < 400 && location) {
        const next = new URL(location, current)
        await res.arrayBuffer().catch(() => null)
        if (stop(next))
          return {
            url: current.href,
            status: res.status,
            html: '',
            location: next.href,
            trail,
            setCookies,
          }
        current = next
        method = 'GET'
        body = undefined
        continue
      }
      return {
        url: current.href,
        status: res.status,
        html: await res.text(),
        location,
        trail,
        setCookies,
      }
    }
    throw new Error(`too many redirects from ${url}`)
  }

  /** Submits the page's first form (or the one with this id), with `fields` set or added. */
  async submit(
    page: Page,
    fields: Record<string, string> = {},
    stop?: (url: URL) => boolean,
    formId?: string,
  ): Promise<Page> {
    const form = findForm(page.html, formId)
    if (!form) throw new Error(`no form on ${page.url}: ${page.html.slice(0, 300)}`)
    const body = new URLSearchParams(form.fields)
    for (const [k, v] of Object.entries(fields)) body.set(k, v)
    return this.open(new URL(form.action, page.url).href, { method: 'POST', body }, stop)
  }

  cookie(url: string, name: string): string | undefined {
    return this.jar.get(new URL(url).host)?.get(name)
  }

  private cookieHeader(url: URL): string | null {
    const jar = this.jar.get(url.host)
    if (!jar || jar.size === 0) return null
    return [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
  }

  private store(url: URL, cookies: string[]): void {
    const jar = this.jar.get(url.host) ?? new Map<string, string>()
    this.jar.set(url.host, jar)
    for (const c of cookies) {
      const [pair] = c.split(';')
      const eq = pair!.indexOf('=')
      if (eq < 0) continue
      const name = pair!.slice(0, eq).trim()
      const value = pair!.slice(eq + 1).trim()
      if (/max-age=0\b/i.test(c) || value === '') jar.delete(name)
      else jar.set(name, value)
    }
  }
}

const decode = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')

function findForm(
  html: string,
  id?: string,
): { action: string; fields: Array<[string, string]> } | null {
  const forms = [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)]
  const match = id ? forms.find((f) => f[1]!.includes(`id="${id}"`)) : forms[0]
  if (!match) return null
  const action = /action="([^"]*)"/i.exec(match[1]!)?.[1] ?? ''
  const fields: Array<[string, string]> = []
  for (const input of match[2]!.matchAll(/<input\b([\s\S]*?)>/gi)) {
    const attrs = input[1]!
    const name = /name="([^"]*)"/i.exec(attrs)?.[1]
    if (!name) continue
    fields.push([decode(name), decode(/value="([^"]*)"/i.exec(attrs)?.[1] ?? '')])
  }
  return { action: decode(action), fields }
}
