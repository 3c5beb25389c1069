import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { createHash, randomBytes } from 'node:crypto'
import { addClient, addUser, basic, form, FORM } from './helper.js'

/**
 * A browser for app.inject: keeps cookies (Set-Cookie in, Cookie out) and reads forms back out of the pages.
 * The browser-flow tests (and the security cases A and C) drive the pages with it; test/e2e/oidc-browser.test.ts
 * drives the same pages in Chromium.
 */
export class InjectBrowser {
  readonly cookies = new Map<string, string>()
  constructor (private readonly app: FastifyInstance) {}

  #remember (res: LightMyRequestResponse): LightMyRequestResponse {
    const set = res.headers['set-cookie']
    for (const line of set === undefined ? [] : Array.isArray(set) ? set : [set]) {
      const [pair] = line.split(';')
      const eq = (pair ?? '').indexOf('=')
      const name = (pair ?? '').slice(0, eq)
      const value = (pair ?? '').slice(eq + 1)
      if (/max-age=0/i.test(line) || value === '') this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
    return res
  }

  get cookieHeader (): string { return [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; ') }

  async get (url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return this.#remember(await this.app.inject({ method: 'GET', url, headers: { cookie: this.cookieHeader, ...headers } }))
  }

  async post (url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return this.#remember(await this.app.inject({ method: 'POST', url, headers: { ...FORM, cookie: this.cookieHeader, ...headers }, payload: form(fields) }))
  }
}

const unescape = (s: string) => s.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')

/** The value of a hidden field of the page's form. */
export function field (html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html)
  if (!match?.[1]) throw new Error(`no field ${name} in the page`)
  return unescape(match[1])
}

export function pkce (): { verifier: string, challenge: string } {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

export const REDIRECT = 'https://app.test/cb'
export const PASSWORD = 'correct horse battery staple'

/** alice (scope items:read), a confidential `web` and a public `spa` client allowed authorization_code and refresh_token. */
export async function browserFixtures (app: FastifyInstance, extra: { skipConsent?: boolean } = {}) {
  const alice = await addUser(app, 'alice', PASSWORD, { scope: 'items:read', fullName: 'Alice Liddell', email: 'alice@example.test' })
  const secret = await addClient(app, 'web', { grantTypes: ['authorization_code', 'refresh_token'], redirectUris: [REDIRECT] }) as string
  await addClient(app, 'spa', { isPublic: true, grantTypes: ['authorization_code', 'refresh_token'], redirectUris: ['https://spa.test/cb', 'http://127.0.0.1/cb'] })
  if (extra.skipConsent) await app.storage.clients.update('web', { skipConsent: true })
  return { alice, secret, webAuth: basic('web', secret) }
}

export function authorizeUrl (params: Record<string, string | undefined>): string {
  const query = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined) query.append(k, v)
  return `/authorize?${query.toString()}`
}

/** The standard request of `web`, with a fresh PKCE pair; override any parameter (undefined drops it). */
export function webRequest (over: Record<string, string | undefined> = {}) {
  const { verifier, challenge } = pkce()
  const params = { response_type: 'code', client_id: 'web', redirect_uri: REDIRECT, scope: 'openid profile', state: 'st-1', nonce: 'n-1', code_challenge: challenge, code_challenge_method: 'S256', ...over }
  return { url: authorizeUrl(params), verifier, params }
}

/** The query of a redirect back to the client. */
export function callbackParams (res: LightMyRequestResponse): URLSearchParams {
  const location = res.headers.location
  if (typeof location !== 'string') throw new Error(`no Location (status ${res.statusCode})`)
  return new URL(location).searchParams
}

/**
 * The answer of a response_mode=form_post page (OAuth 2.0 Form Post Response Mode): where its form posts and the
 * fields it posts, unescaped as a browser reads them.
 */
export function formPostParams (res: LightMyRequestResponse): { action: string, params: URLSearchParams } {
  if (res.statusCode !== 200 || !/^text\/html/.test(String(res.headers['content-type']))) throw new Error(`not a form_post page (status ${res.statusCode})`)
  const action = /<form method="post" action="([^"]*)" id="response">/.exec(res.body)?.[1]
  if (action === undefined) throw new Error('no form in the page')
  const params = new URLSearchParams()
  for (const [, name = '', value = ''] of res.body.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) params.append(unescape(name), unescape(value))
  return { action: unescape(action), params }
}

/** Parameters without the undefined ones (what webRequest gives), as form fields for POST /authorize. */
export function defined (params: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined))
}

/** Signs in on the login page the authorization URL shows; returns the reply to the form post. */
export async function signInAt (browser: InjectBrowser, url: string, username = 'alice', password = PASSWORD) {
  const page = await browser.get(url)
  if (page.statusCode !== 200) throw new Error(`login page: ${page.statusCode} ${page.body.slice(0, 200)}`)
  return browser.post('/login', { username, password, csrf: field(page.body, 'csrf'), return_to: field(page.body, 'return_to') })
}

/** Through login and consent (allow) to the redirect back; returns the code. */
export async function authorizeThrough (browser: InjectBrowser, url: string): Promise<string> {
  let res = await browser.get(url)
  if (res.statusCode === 200 && res.body.includes('name="password"')) {
    res = await browser.post('/login', { username: 'alice', password: PASSWORD, csrf: field(res.body, 'csrf'), return_to: field(res.body, 'return_to') })
    if (res.statusCode === 303 && res.headers.location?.startsWith('/authorize')) res = await browser.get(res.headers.location)
  }
  if (res.statusCode === 200 && res.body.includes('name="decision"')) {
    res = await browser.post('/consent', { decision: 'allow', csrf: field(res.body, 'csrf'), return_to: field(res.body, 'return_to') })
  }
  const code = callbackParams(res).get('code')
  if (!code) throw new Error(`no code: ${res.statusCode} ${String(res.headers.location)}`)
  return code
}

export function exchange (app: FastifyInstance, fields: Record<string, string>, auth?: string) {
  return app.inject({ method: 'POST', url: '/token', headers: { ...FORM, ...(auth ? { authorization: auth } : {}) }, payload: form({ grant_type: 'authorization_code', redirect_uri: REDIRECT, ...fields }) })
}
