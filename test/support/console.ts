import type { Test } from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { Page } from 'playwright-core'
import type { SecurityEvent } from '../../lib/ops/events.js'
import { addUser, build, ISSUER } from './helper.js'
import { InjectBrowser, field } from './browser.js'
import { codeNow } from './factors.js'

/** A path on this server for a Location (absolute ones at ISSUER included); undefined for anywhere else. */
const localPath = (location: string | undefined): string | undefined => {
  if (location === undefined) return undefined
  if (location.startsWith('/')) return location
  return location.startsWith(`${ISSUER}/`) ? location.slice(ISSUER.length) : undefined
}

/** Follows 303s on this server from `res`, as a browser would; returns the first answer that is not one. */
export async function follow (browser: InjectBrowser, res: LightMyRequestResponse): Promise<LightMyRequestResponse> {
  for (let hops = 0; hops < 10 && res.statusCode === 303; hops++) {
    const next = localPath(res.headers.location)
    if (next === undefined) return res
    res = await browser.get(next)
  }
  return res
}

/**
 * Starts a console sign-in and signs in with a password, stopping at the redirect to the console's callback (not
 * followed): returns its URL (a path with its query), for tests that change something before it is reached.
 */
export async function untilCallback (browser: InjectBrowser, username: string, password: string): Promise<URL> {
  let res = await follow(browser, await browser.get('/console'))
  res = await browser.post('/login', { username, password, csrf: field(res.body, 'csrf'), return_to: field(res.body, 'return_to') })
  for (let hops = 0; hops < 10; hops++) {
    const location = res.headers.location
    if (res.statusCode !== 303 || location === undefined) throw new Error(`no callback: ${res.statusCode} ${res.body.slice(0, 200)}`)
    const url = new URL(location, ISSUER)
    if (url.pathname === '/console/callback') return url
    res = await browser.get(url.pathname + url.search)
  }
  throw new Error('too many redirects')
}

/**
 * Signs in to the console in `browser` as a user would: /console → /authorize → the login page → (the second factor
 * page, with a code of `totpSecret`) → the callback. Returns the last answer (a console page when admitted).
 */
export async function consoleSignIn (app: FastifyInstance, browser: InjectBrowser, username: string, password: string, totpSecret?: string, start = '/console'): Promise<LightMyRequestResponse> {
  let res = await browser.get(start)
  res = await follow(browser, res)
  if (res.statusCode === 200 && res.body.includes('name="password"')) {
    res = await browser.post('/login', { username, password, csrf: field(res.body, 'csrf'), return_to: field(res.body, 'return_to') })
    res = await follow(browser, res)
  }
  if (res.statusCode === 200 && res.body.includes('name="code"') && totpSecret !== undefined) {
    const fields: Record<string, string> = { code: codeNow(app, totpSecret), csrf: field(res.body, 'csrf') }
    if (res.body.includes('name="return_to"')) fields.return_to = field(res.body, 'return_to')
    res = await browser.post(new URL(/<form method="post" action="([^"]+)"/.exec(res.body)?.[1] ?? '/login/factor', ISSUER).pathname, fields)
    res = await follow(browser, res)
  }
  return res
}

/**
 * The console tests' start: an app, an admin `root` signed in to the console, the events emitted, the page's CSRF
 * field. `env` and `options` go to `build` (SMTP_URL, a manual clock …).
 */
export async function signedInAdmin (t: Test, password = 'root password 1', env: Record<string, string> = {}, options: Parameters<typeof build>[2] = {}) {
  const app = await build(t, env, options)
  await addUser(app, 'root', password, { scope: 'admin' })
  const events: SecurityEvent[] = []
  const emit = app.events.emit
  app.events.emit = (event, log) => { events.push(event); emit.call(app.events, event, log) }
  const browser = new InjectBrowser(app)
  const page = await consoleSignIn(app, browser, 'root', password)
  if (page.statusCode !== 200) throw new Error(`not signed in: ${page.statusCode}`)
  return { app, browser, events, csrf: field(page.body, 'csrf') }
}

export { InjectBrowser, field }

// The console in Chromium (test/e2e/console*.test.ts): the widths it is drawn at and the sign-in steps as a user takes them.

/** A phone's width (the console must fit it) and a desktop's. */
export const PHONE = 390
export const DESKTOP = 1024

/** How far the page scrolls sideways at its current width (0: it fits). */
export const sidewaysScroll = (page: Page) => page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth')

/** On the login page: types the username and password and presses Sign in, waiting for the next page. */
export async function signInThroughLoginPage (page: Page, username: string, password: string) {
  await page.getByLabel('Username').fill(username)
  await page.getByLabel('Password').fill(password)
  await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'Sign in', exact: true }).click()])
}

/** On the second-factor page (/login/factor): types `code` and presses Continue, waiting for `next` (a URL) to load. */
export async function enterFactorCode (page: Page, code: string, next: string) {
  await page.getByLabel('Code from your authenticator app, or a recovery code').fill(code)
  await Promise.all([page.waitForURL(next), page.getByRole('button', { name: 'Continue' }).click()])
}
