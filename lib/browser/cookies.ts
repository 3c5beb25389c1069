import { randomBytes } from 'node:crypto'

/**
 * The browser's cookies: the one home of their names and attributes. Every one is HttpOnly and SameSite=Lax
 * (Lax, not Strict: the session and the upstream binding must come back on a provider's or a client's
 * top-level redirect), Path=/, and when the issuer is https `__Host-`-prefixed and Secure, so no subdomain
 * or plain-http page can set or read them (RFC 6265bis §4.1.3.2). Their values are 256-bit random secrets.
 *
 * - session: names the browser session; the store keeps only its digest (lib/browser/sessions.ts).
 * - csrf: the double-submit token every form carries (lib/browser/csrf.ts).
 * - upstream: binds this browser to the sign-ins it sent to upstream providers; the store keeps its digest
 *   with each pending sign-in, so a callback carrying another browser's `state` finds nothing.
 * - step: a password step done, waiting for the second factor (lib/mfa/password-step.ts): sealed, not random.
 * - console: the admin console's session (lib/console/sessions.ts), SameSite=Strict (consoleCookieAttributes): no
 *   other site's link or form ever carries it, so nothing started elsewhere acts in the console.
 * - consoleSignIn: the console's sign-in on its way through /authorize (lib/console/sign-in.ts): sealed, Lax, since it
 *   must come back on the redirect that ends the sign-in.
 */
export interface CookieNames { session: string, csrf: string, upstream: string, step: string, console: string, consoleSignIn: string, secure: boolean }

export function cookieNames (issuer: string): CookieNames {
  const secure = issuer.startsWith('https:')
  const prefix = secure ? '__Host-' : ''
  return { session: `${prefix}gatehouse-session`, csrf: `${prefix}gatehouse-csrf`, upstream: `${prefix}gatehouse-upstream`, step: `${prefix}gatehouse-step`, console: `${prefix}gatehouse-console`, consoleSignIn: `${prefix}gatehouse-console-signin`, secure }
}

/** The attributes every cookie is set with (@fastify/cookie's `reply.setCookie` options); `maxAge` in seconds, 0 deletes. */
export function cookieAttributes (names: CookieNames, maxAge?: number): { path: '/', httpOnly: true, sameSite: 'lax', secure: boolean, maxAge?: number } {
  return { path: '/', httpOnly: true, sameSite: 'lax', secure: names.secure, ...(maxAge === undefined ? {} : { maxAge }) }
}

/** The console session's attributes: as every cookie's, but SameSite=Strict. */
export function consoleCookieAttributes (names: CookieNames, maxAge?: number): { path: '/', httpOnly: true, sameSite: 'strict', secure: boolean, maxAge?: number } {
  return { ...cookieAttributes(names, maxAge), sameSite: 'strict' }
}

/** A fresh cookie value (and upstream `state`, `nonce`, PKCE verifier): 256 bits, base64url. */
export const newSecret = (): string => randomBytes(32).toString('base64url')

/** Whether a cookie's value can be one of ours: anything else is treated as absent before it reaches a store. */
export const isSecretValue = (value: string | undefined): value is string => value !== undefined && /^[A-Za-z0-9_-]{43}$/.test(value)
