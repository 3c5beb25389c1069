/**
 * A cookie jar for fetch (Set-Cookie in, Cookie out, paths respected, expired cookies dropped) and a loop
 * that follows redirects by hand with it. The upstream fixtures use it to play the user's browser at the
 * provider without Chromium; keep one jar per "browser" to keep (or not) a session at the provider.
 */
export class CookieJar {
  /** name + path → value */
  readonly #cookies = new Map<string, { name: string, value: string, path: string }>()

  store (headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';')
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1).trim()
      let path = '/'
      let expired = value === ''
      for (const attribute of attributes) {
        const [key = '', val = ''] = attribute.split('=').map((s) => s.trim())
        if (/^path$/i.test(key)) path = val || '/'
        if (/^max-age$/i.test(key) && Number(val) <= 0) expired = true
        if (/^expires$/i.test(key) && Date.parse(val) <= Date.now()) expired = true
      }
      if (expired) this.#cookies.delete(`${name} ${path}`)
      else this.#cookies.set(`${name} ${path}`, { name, value, path })
    }
  }

  header (url: string): string {
    const { pathname } = new URL(url)
    return [...this.#cookies.values()]
      .filter((c) => pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map((c) => `${c.name}=${c.value}`).join('; ')
  }

  async fetch (url: string, init: { method?: string, form?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: 'text/html,application/json' }
    const cookie = this.header(url)
    if (cookie) headers.cookie = cookie
    const body = init.form ? new URLSearchParams(init.form).toString() : undefined
    if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded'
    const res = await fetch(url, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body, redirect: 'manual', signal: AbortSignal.timeout(10_000) })
    this.store(res.headers)
    return res
  }
}

/** Whether `url` is (a query away from) one of the redirect URIs. */
export function isCallback (url: string, redirectUris: readonly string[]): boolean {
  const bare = url.split(/[?#]/)[0]
  return redirectUris.includes(bare ?? '')
}
