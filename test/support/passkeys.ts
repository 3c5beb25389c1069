import type { LightMyRequestResponse } from 'fastify'
import { field, type InjectBrowser } from './browser.js'
import type { CeremonyOptions, SoftAuthenticator } from './webauthn.js'

/**
 * The passkey pages driven through app.inject, as the page script drives them in a browser: ask the options URL for a
 * challenge (a form post with the page's CSRF field), let the (software) authenticator answer, post the answer.
 */

/** Adds `authenticator` as a passkey on the account page of the signed-in `browser`; the POST's answer. */
export async function addPasskey (browser: InjectBrowser, authenticator: SoftAuthenticator, name = 'Laptop', over: CeremonyOptions = {}): Promise<LightMyRequestResponse> {
  const page = await browser.get('/account')
  const csrf = field(page.body, 'csrf')
  const options = await browser.post('/account/passkeys/options', { csrf })
  if (options.statusCode !== 200) throw new Error(`registration options: ${options.statusCode}`)
  const response = authenticator.register(options.json(), over)
  return browser.post('/account/passkeys', { csrf, name, response: JSON.stringify(response) })
}

/** A challenge for "Sign in with a passkey" from the login page `loginPage` (its CSRF field). */
export async function signInChallenge (browser: InjectBrowser, loginPage: string): Promise<string> {
  const options = await browser.post('/login/passkey/options', { csrf: field(loginPage, 'csrf') })
  if (options.statusCode !== 200) throw new Error(`sign-in options: ${options.statusCode}`)
  return (options.json() as { challenge: string }).challenge
}

/** Posts "Sign in with a passkey" from `loginPage` with `response` (an assertion, or anything); the answer. */
export async function postAssertion (browser: InjectBrowser, loginPage: string, response: unknown): Promise<LightMyRequestResponse> {
  const returnTo = /name="return_to" value="([^"]*)"/.exec(loginPage)?.[1]?.replace(/&amp;/g, '&')
  return browser.post('/login/passkey', { csrf: field(loginPage, 'csrf'), response: JSON.stringify(response), ...(returnTo ? { return_to: returnTo } : {}) })
}

/** The whole sign-in from the login page at `loginUrl`: a challenge, the authenticator's assertion, the post; the answer. */
export async function signInWithPasskey (browser: InjectBrowser, authenticator: SoftAuthenticator, loginUrl = '/login', over: CeremonyOptions = {}): Promise<LightMyRequestResponse> {
  const login = await browser.get(loginUrl)
  const challenge = await signInChallenge(browser, login.body)
  return postAssertion(browser, login.body, authenticator.assert(challenge, over))
}
