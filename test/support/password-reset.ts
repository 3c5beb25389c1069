import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import type { ParsedMail } from 'mailparser'
import { build, ISSUER, manualClock } from './helper.js'
import { browserFixtures, field, InjectBrowser } from './browser.js'
import { startSmtp } from './smtp.js'

/**
 * What the forgotten-password tests share (test/routes/browser/password-reset.test.ts, test/security/u-accounts.test.ts):
 * an app that mails through a real SMTP server, alice (alice@example.test), and the pages driven as a browser would.
 */

export const NEW_PASSWORD = 'a lighthouse keeper in winter'

export async function resetSetUp (t: Test, env: Record<string, string> = {}) {
  const smtp = await startSmtp(t)
  const clock = manualClock()
  const app = await build(t, { SMTP_URL: smtp.url, MAIL_POLL_MS: '60000', ...env }, { clock })
  const fixtures = await browserFixtures(app, { skipConsent: true })
  /** Works on every queued request and sends every queued message now. */
  const drain = async () => { await app.passwordResets.run(); await app.mail.run() }
  /** The reset link of the n-th message the SMTP server got (1-based), as a path. */
  const linkOf = async (n: number): Promise<string> => resetPath(ISSUER, (await smtp.waitFor(n))[n - 1]!)
  return { app, clock, smtp, drain, linkOf, ...fixtures }
}

/** GET /forgot-password, then post `email` on its form (with the page's CSRF field and return_to). */
export async function forgotPassword (browser: InjectBrowser, email: string, options: { returnTo?: string, headers?: Record<string, string> } = {}): Promise<LightMyRequestResponse> {
  const page = await browser.get(options.returnTo === undefined ? '/forgot-password' : `/forgot-password?return_to=${encodeURIComponent(options.returnTo)}`, options.headers)
  if (page.statusCode !== 200) throw new Error(`forgot-password page: ${page.statusCode}`)
  const fields: Record<string, string> = { csrf: field(page.body, 'csrf'), email }
  if (page.body.includes('name="return_to"')) fields.return_to = field(page.body, 'return_to')
  return browser.post('/forgot-password', fields, options.headers)
}

/** The whole `<issuer>/reset-password?token=…` link in a message's text part, as a path (throws when there is none). */
export function resetPath (issuer: string, message: ParsedMail): string {
  const text = message.text ?? ''
  const link = new RegExp(`${issuer.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/reset-password\\?token=[A-Za-z0-9_-]{43}(?=\\s)`).exec(text)?.[0]
  if (link === undefined) throw new Error(`no reset link in ${text}`)
  return link.slice(issuer.length)
}

/** Opens a reset link and posts `password` on its form; the answer to the post. */
export async function resetThrough (browser: InjectBrowser, path: string, password: string, confirmation = password): Promise<LightMyRequestResponse> {
  const page = await browser.get(path)
  if (page.statusCode !== 200) return page
  return browser.post('/reset-password', { csrf: field(page.body, 'csrf'), token: field(page.body, 'token'), password, password_confirmation: confirmation })
}

/** A page with its per-reply nonce (style, CSP) taken out, for comparing two answers. */
export const withoutNonce = (html: string): string => html.replace(/nonce="[^"]*"/g, 'nonce=""')

/** Whether `password` signs `username` in now (the password grant of the default client). */
export async function signsIn (app: FastifyInstance, username: string, password: string): Promise<boolean> {
  const res = await app.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ grant_type: 'password', username, password }).toString() })
  return res.statusCode === 200
}
