import type { Browser, BrowserContext, Page } from 'playwright-core'
import { fieldsOf, type Arrival, type RelyingParty } from './rp.js'
import { formsOf, submission, type HtmlForm } from './forms.js'
import { FORM_CONTENT_TYPE, header, httpsRequest, type HttpResult } from './http.js'

/**
 * The user at a browser, as the suite's scripted browser is: it follows the OP's redirects, signs in on the login
 * page, allows the consent page, lets a form_post page submit itself, and stops when it is back at the conformance
 * RP or on any other OP page (an error page, a signed-out page, a logout confirmation). Two of them:
 * `HttpUserAgent` (plain HTTP with a cookie jar: the pages need no script, so it is fast) and `ChromiumUserAgent`
 * (Debian's Chromium: the form_post page's auto-submit is a script under the page's CSP).
 */

/** What the OP showed on the way. */
export type PageKind = 'login' | 'consent' | 'form_post'

export interface Visit {
  /** The request the RP received, when the browser got back to the client. */
  arrival: Arrival | undefined
  /** Where the browser stopped otherwise. */
  page: { url: string, status: number, body: string } | undefined
  /** The OP pages it went through, in order. */
  shown: PageKind[]
}

export interface UserAgent {
  /** Opens `url` (GET, or POST with the URL's query as the form body, as the suite's browser does) and goes on as a user would. */
  visit (url: string, method?: 'GET' | 'POST'): Promise<Visit>
  /** On the page a visit stopped at, submits the form that posts to `action` (a logout confirmation) and goes on. */
  confirm (action: string): Promise<Visit>
}

/** Whether a form of a page at `pageUrl` posts to `action` (query aside). */
export function postsTo (form: HtmlForm, pageUrl: string, action: string): boolean {
  if (form.method !== 'post') return false
  const target = new URL(form.action || pageUrl, pageUrl)
  target.search = ''
  return target.href === action
}

export interface Credentials { username: string, password: string }

const isLogin = (form: HtmlForm) => form.inputs.some((i) => i.name === 'password')
const allowButton = (form: HtmlForm) => form.buttons.find((b) => b.name === 'decision' && b.value === 'allow')
const MAX_HOPS = 25

/** Plain HTTP: a cookie jar for the OP, redirects followed by hand, forms read out of the pages and posted. */
export class HttpUserAgent implements UserAgent {
  readonly #cookies = new Map<string, string>()

  constructor (private readonly rp: RelyingParty, private readonly user: Credentials) {}

  async #send (url: string, method: string, body?: string, from: 'op' | 'rp' = 'op'): Promise<HttpResult> {
    const headers: Record<string, string> = { accept: 'text/html', 'user-agent': 'gatehouse-conformance' }
    if (this.#cookies.size > 0 && !this.rp.owns(url)) headers.cookie = [...this.#cookies].map(([n, v]) => `${n}=${v}`).join('; ')
    if (body !== undefined) {
      headers['content-type'] = FORM_CONTENT_TYPE
      // What a browser sends for a form: from the OP's pages (Referrer-Policy: no-referrer) `Origin: null`; from the
      // RP's page (an authorization request by POST), the RP's origin, another site.
      headers.origin = from === 'rp' ? this.rp.origin : 'null'
      headers['sec-fetch-site'] = from === 'rp' ? 'cross-site' : 'same-origin'
    }
    const res = await httpsRequest(url, { method, headers, body })
    const set = res.headers['set-cookie'] ?? []
    for (const line of set) {
      const pair = line.split(';')[0] ?? ''
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1).trim()
      if (/max-age=0/i.test(line) || /expires=thu, 01 jan 1970/i.test(line) || value === '') this.#cookies.delete(name)
      else this.#cookies.set(name, value)
    }
    return res
  }

  #last: { url: string, body: string } | undefined

  async visit (start: string, method: 'GET' | 'POST' = 'GET'): Promise<Visit> {
    if (method === 'GET') return this.#run(start, 'GET', undefined)
    const parsed = new URL(start)
    const body = parsed.search.slice(1)
    parsed.search = ''
    return this.#run(parsed.href, 'POST', body, 'rp')
  }

  async confirm (action: string): Promise<Visit> {
    const last = this.#last
    const form = last === undefined ? undefined : formsOf(last.body).find((f) => postsTo(f, last.url, action))
    if (last === undefined || form === undefined) throw new Error(`no form posting to ${action} on the last page`)
    return this.#run(new URL(form.action || last.url, last.url).href, 'POST', submission(form).toString())
  }

  async #run (start: string, method: string, startBody: string | undefined, startFrom: 'op' | 'rp' = 'op'): Promise<Visit> {
    const shown: PageKind[] = []
    let url = start
    let verb = method
    let body = startBody
    let from = startFrom
    for (let hop = 0; hop < MAX_HOPS; hop++) {
      if (this.rp.owns(url)) {
        const mark = this.rp.mark()
        await this.#send(url, verb, body)
        const arrival = this.rp.since(mark)[0]
        if (arrival) arrival.fragment = fieldsOf(new URLSearchParams(new URL(url).hash.slice(1)))
        return { arrival, page: undefined, shown }
      }
      const res = await this.#send(url, verb, body, from)
      from = 'op'
      const location = header(res, 'location')
      if (res.status >= 300 && res.status < 400 && location !== undefined) {
        url = new URL(location, url).href
        if (res.status !== 307 && res.status !== 308) {
          verb = 'GET'
          body = undefined
        }
        continue
      }
      const forms = formsOf(res.body)
      const login = forms.find(isLogin)
      const consent = forms.find((f) => allowButton(f) !== undefined)
      const back = forms.find((f) => f.action !== '' && this.rp.owns(new URL(f.action, url).href))
      let next: { form: HtmlForm, fields: URLSearchParams, kind: PageKind } | undefined
      if (login) next = { form: login, fields: submission(login, { username: this.user.username, password: this.user.password }), kind: 'login' }
      else if (consent) next = { form: consent, fields: submission(consent, {}, allowButton(consent)), kind: 'consent' }
      else if (back) next = { form: back, fields: submission(back), kind: 'form_post' }
      if (next === undefined) {
        this.#last = { url, body: res.body }
        return { arrival: undefined, page: { url, status: res.status, body: res.body }, shown }
      }
      shown.push(next.kind)
      const target = new URL(next.form.action || url, url)
      if (next.form.method === 'post') {
        url = target.href
        verb = 'POST'
        body = next.fields.toString()
      } else {
        target.search = next.fields.toString()
        url = target.href
        verb = 'GET'
        body = undefined
      }
    }
    throw new Error(`more than ${MAX_HOPS} hops from ${start}`)
  }
}

/** Debian's Chromium through playwright-core: one fresh context (no cookies) per user agent. */
export class ChromiumUserAgent implements UserAgent {
  #status = 0

  private constructor (private readonly rp: RelyingParty, private readonly user: Credentials, private readonly context: BrowserContext, private readonly page: Page) {
    page.on('response', (response) => {
      if (response.request().isNavigationRequest() && response.frame() === page.mainFrame()) this.#status = response.status()
    })
  }

  static async open (browser: Browser, rp: RelyingParty, user: Credentials): Promise<ChromiumUserAgent> {
    const context = await browser.newContext({ ignoreHTTPSErrors: true })
    return new ChromiumUserAgent(rp, user, context, await context.newPage())
  }

  close (): Promise<void> {
    return this.context.close()
  }

  /** Runs `action` and waits for the navigation it starts to load. */
  async #navigate (action: () => Promise<unknown>): Promise<void> {
    const navigated = this.page.waitForNavigation({ waitUntil: 'load', timeout: 15_000 })
    await action()
    await navigated
  }

  async visit (start: string, method: 'GET' | 'POST' = 'GET'): Promise<Visit> {
    const shown: PageKind[] = []
    const mark = this.rp.mark()
    if (method === 'POST') {
      // The suite's browser posts the query as a form: here a form on an RP page, submitted at once.
      const parsed = new URL(start)
      const inputs = [...parsed.searchParams].map(([n, v]) => `<input type="hidden" name="${escapeHtml(n)}" value="${escapeHtml(v)}">`).join('')
      parsed.search = ''
      await this.page.goto(this.rp.blankPage)
      await this.page.setContent(`<form method="post" action="${escapeHtml(parsed.href)}">${inputs}</form>`)
      await this.#navigate(() => this.page.evaluate('document.forms[0].submit()'))
    } else {
      await this.#navigate(() => this.page.goto(start))
    }
    return this.#goOn(mark, shown, start)
  }

  async confirm (action: string): Promise<Visit> {
    const mark = this.rp.mark()
    const forms = formsOf(await this.#content())
    const index = forms.findIndex((f) => postsTo(f, this.page.url(), action))
    if (index < 0) throw new Error(`no form posting to ${action} on the page`)
    await this.#navigate(() => this.page.evaluate(`document.forms[${index}].requestSubmit()`))
    return this.#goOn(mark, [], action)
  }

  /** The page's HTML; a page that navigates away meanwhile (form_post's script) is read again once it has loaded. */
  async #content (): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.page.content()
      } catch (err) {
        if (attempt >= 3 || !/navigat|context was destroyed/i.test((err as Error).message)) throw err
        await this.page.waitForLoadState('load')
      }
    }
  }

  async #goOn (mark: number, shown: PageKind[], start: string): Promise<Visit> {
    for (let hop = 0; hop < MAX_HOPS; hop++) {
      if (this.rp.owns(this.page.url())) return this.#arrived(mark, shown)
      const forms = formsOf(await this.#content())
      if (forms.some(isLogin)) {
        shown.push('login')
        await this.page.locator('input[name="username"]').fill(this.user.username)
        await this.page.locator('input[name="password"]').fill(this.user.password)
        await this.#navigate(() => this.page.locator('form:has(input[name="password"]) [type="submit"]').first().click())
        continue
      }
      if (forms.some((f) => allowButton(f) !== undefined)) {
        shown.push('consent')
        await this.#navigate(() => this.page.locator('button[name="decision"][value="allow"]').first().click())
        continue
      }
      // A page that goes on by itself (form_post's auto-submitting form) reaches the RP shortly; any other page stays.
      const selfSubmitting = forms.some((f) => f.action !== '' && this.rp.owns(new URL(f.action, this.page.url()).href))
      if (selfSubmitting) shown.push('form_post')
      try {
        await this.page.waitForURL((u) => this.rp.owns(u.href), { timeout: selfSubmitting ? 10_000 : 1_000, waitUntil: 'load' })
        return this.#arrived(mark, shown)
      } catch {
        return { arrival: undefined, page: { url: this.page.url(), status: this.#status, body: await this.#content() }, shown }
      }
    }
    throw new Error(`more than ${MAX_HOPS} pages from ${start}`)
  }

  #arrived (mark: number, shown: PageKind[]): Visit {
    const arrivals = this.rp.since(mark)
    const arrival = arrivals[arrivals.length - 1]
    if (arrival) arrival.fragment = fieldsOf(new URLSearchParams(new URL(this.page.url()).hash.slice(1)))
    return { arrival, page: undefined, shown }
  }
}

function escapeHtml (s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
