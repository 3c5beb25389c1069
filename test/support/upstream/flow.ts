import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { InjectBrowser, callbackParams, exchange, field } from '../browser.js'
import { addUser, ISSUER } from '../helper.js'
import { bearer, passwordGrant } from '../oauth.js'
import type { Test } from 'tap'
import type { ProviderInput } from '../../../lib/admin/providers.js'

/**
 * Gatehouse's side of an upstream sign-in, for app.inject tests: register a provider (through `app.providers`,
 * lib/admin/providers.ts), walk from /authorize to the provider and back, and read who ended up signed in.
 */

/** `app.providers`: the service the CLI and the admin API use (lib/admin/providers.ts). */
export const providers = (app: FastifyInstance): FastifyInstance['providers'] => app.providers

export const callbackUrl = (name: string, issuer = ISSUER) => `${issuer}/login/${name}/callback`

/** Registers an OpenID provider fixture (op.ts or hostile-op.ts) under `name`. */
export function addOidcProvider (app: FastifyInstance, name: string, op: { issuer: string, clientId: string, clientSecret: string }, extra: Partial<ProviderInput> = {}) {
  return providers(app).add({ name, issuer: op.issuer, clientId: op.clientId, clientSecret: op.clientSecret, ...extra })
}

const unescape = (s: string) => s.replace(/&amp;/g, '&').replace(/&#39;/g, "'").replace(/&quot;/g, '"')

/** The "Continue with …" link to provider `name` on a login page. */
export function providerLink (html: string, name: string): string | undefined {
  const match = new RegExp(`href="(/login/${name}(?:\\?[^"]*)?)"`).exec(html)
  return match?.[1] === undefined ? undefined : unescape(match[1])
}

/**
 * Opens `authorizeUrl` (a Gatehouse /authorize path), follows the login page's link to provider `name` and
 * returns where Gatehouse sends the browser: the provider's authorization URL (and the 303 itself).
 */
export async function startAt (browser: InjectBrowser, authorizeUrl: string, name: string): Promise<{ providerUrl: string, res: LightMyRequestResponse }> {
  const page = await browser.get(authorizeUrl)
  if (page.statusCode !== 200) throw new Error(`login page: ${page.statusCode} ${page.body.slice(0, 200)}`)
  const link = providerLink(page.body, name)
  if (!link) throw new Error(`no "Continue with" link to /login/${name} on the login page`)
  const res = await browser.get(link)
  const location = res.headers.location
  if ((res.statusCode !== 303 && res.statusCode !== 302) || typeof location !== 'string') throw new Error(`/login/${name}: ${res.statusCode} ${res.body.slice(0, 200)}`)
  return { providerUrl: location, res }
}

/** Hands the provider's redirect (an absolute callback URL on Gatehouse's issuer) to the inject browser. */
export function deliver (browser: InjectBrowser, callback: string, name?: string): Promise<LightMyRequestResponse> {
  const url = new URL(callback)
  const path = name === undefined ? url.pathname : `/login/${name}/callback`
  return browser.get(`${path}${url.search}`)
}

/**
 * From Gatehouse's answer to the callback to the client's code: follows 303s within Gatehouse (/authorize),
 * allows the consent page, and returns the redirect to the client (its query) or throws.
 */
export async function onToClient (browser: InjectBrowser, res: LightMyRequestResponse): Promise<URLSearchParams> {
  for (let hop = 0; hop < 5; hop++) {
    const location = res.headers.location
    if ((res.statusCode === 303 || res.statusCode === 302) && typeof location === 'string') {
      if (/^https?:/.test(location)) return callbackParams(res)
      res = await browser.get(location)
      continue
    }
    if (res.statusCode === 200 && res.body.includes('name="decision"')) {
      res = await browser.post('/consent', { decision: 'allow', csrf: field(res.body, 'csrf'), return_to: field(res.body, 'return_to') })
      continue
    }
    throw new Error(`not on the way to the client: ${res.statusCode} ${String(location)} ${res.body.slice(0, 300)}`)
  }
  throw new Error('too many hops')
}

/** The signed-in user as the client sees it: code → tokens (client `web`) → /users/me. */
export async function whoGotIn (app: FastifyInstance, code: string, verifier: string, webAuth: string): Promise<{ username: string, sub: string, email?: string, full_name?: string } & Record<string, unknown>> {
  const tokens = await exchange(app, { code, code_verifier: verifier }, webAuth)
  if (tokens.statusCode !== 200) throw new Error(`token: ${tokens.statusCode} ${tokens.body}`)
  const me = await app.inject({ method: 'GET', url: '/users/me', headers: bearer(tokens.json().access_token) })
  if (me.statusCode !== 200) throw new Error(`/users/me: ${me.statusCode} ${me.body}`)
  return me.json()
}

/** A session-cookie check: whether the browser holds a Gatehouse session (http issuer: `gatehouse-session`). */
export const hasSession = (browser: InjectBrowser) => browser.cookies.has('gatehouse-session') || browser.cookies.has('__Host-gatehouse-session')

/** An admin bearer token (a user `root` with scope admin, password grant). */
export async function adminAuth (t: Test, app: FastifyInstance): Promise<{ authorization: string }> {
  await addUser(app, 'root', 'root-password', { scope: 'admin' })
  return bearer((await passwordGrant(t, app, 'root', 'root-password')).access_token)
}

/** The identities linked to a local user, through the admin API. */
export async function identitiesOf (app: FastifyInstance, admin: { authorization: string }, username: string): Promise<Array<{ provider: string, issuer: string, subject: string, email: string | null }>> {
  const res = await app.inject({ method: 'GET', url: `/admin/users/${encodeURIComponent(username)}/identities`, headers: admin })
  if (res.statusCode !== 200) throw new Error(`identities: ${res.statusCode} ${res.body}`)
  return res.json()
}
