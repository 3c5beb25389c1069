import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import { csrfRefused } from '../errors.js'
import type { Session, Storage, User } from '../stores/types.js'

/**
 * Browser sessions and CSRF tokens: the one home of the cookie rules. The session cookie holds a random
 * 256-bit id; the store keeps only its SHA-256, so a database leak gives no usable cookie. Cookies are
 * HttpOnly and SameSite=Lax, and when the issuer is https they are `__Host-`-prefixed and Secure (so no
 * subdomain or plain-http page can set or read them). The id is replaced at every sign-in (no fixation).
 *
 * CSRF: every form carries the value of a second cookie (double submit), compared in constant time; a
 * post whose Origin is another site, or that the browser marks `Sec-Fetch-Site: cross-site`, is refused too.
 * (The pages send `Referrer-Policy: no-referrer`, so browsers send `Origin: null` from them: that says nothing.) The CSRF cookie is replaced at every sign-in, so a
 * form rendered before it (another session's, or a replayed one) is refused.
 *
 * Upstream sign-ins (issue 14): a third cookie holds a random value binding this browser to the sign-ins it
 * sent to providers (the store keeps only its SHA-256 with each pending sign-in), so a callback carrying
 * another browser's `state` finds nothing.
 */
export interface CookieNames { session: string, csrf: string, secure: boolean, upstream: string }

export function cookieNames (issuer: string): CookieNames {
  const secure = issuer.startsWith('https:')
  return secure
    ? { session: '__Host-gatehouse-session', csrf: '__Host-gatehouse-csrf', secure, upstream: '__Host-gatehouse-upstream' }
    : { session: 'gatehouse-session', csrf: 'gatehouse-csrf', secure, upstream: 'gatehouse-upstream' }
}

/** A Cookie header as name → value (the first of a name wins, as browsers send the most specific first). */
export function parseCookies (header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>()
  if (!header) return cookies
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    const name = part.slice(0, eq).trim()
    const value = part.slice(eq + 1).trim()
    if (name && !cookies.has(name)) cookies.set(name, value)
  }
  return cookies
}

export function setCookie (name: string, value: string, options: { secure: boolean, maxAge?: number }): string {
  return `${name}=${value}; Path=/; HttpOnly; SameSite=Lax${options.secure ? '; Secure' : ''}${options.maxAge === undefined ? '' : `; Max-Age=${options.maxAge}`}`
}

export const newSecret = (): string => randomBytes(32).toString('base64url')
export const hashSessionId = (id: string): string => createHash('sha256').update(id, 'utf8').digest('base64url')

/** Constant time, whatever the lengths: both sides are hashed first. */
export function sameSecret (a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest())
}

const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/

/**
 * Refuses (403) a form post whose `csrf` field is not this browser's CSRF cookie, or that comes from another
 * origin (Origin header, when the browser sends one).
 */
export function checkCsrf (input: { cookie: string | undefined, field: unknown, origin: string | undefined, fetchSite?: string | string[], issuerOrigin: string }): void {
  if (input.origin !== undefined && input.origin !== 'null' && input.origin !== input.issuerOrigin) throw csrfRefused()
  if (input.fetchSite === 'cross-site') throw csrfRefused()
  if (input.cookie === undefined || !COOKIE_VALUE.test(input.cookie) || typeof input.field !== 'string' || !sameSecret(input.cookie, input.field)) throw csrfRefused()
}

export class BrowserSessions {
  readonly #storage: Storage
  readonly #clock: Clock
  readonly #ttl: number

  constructor (deps: { storage: Storage, clock: Clock, config: Pick<Config, 'sessionTtl'> }) {
    this.#storage = deps.storage
    this.#clock = deps.clock
    this.#ttl = deps.config.sessionTtl
  }

  get ttl (): number { return this.#ttl }

  /** The live session a cookie names, with its user; none when it expired, was ended, or its user is gone or disabled. */
  async current (cookie: string | undefined): Promise<{ session: Session, user: User } | undefined> {
    if (cookie === undefined || !COOKIE_VALUE.test(cookie)) return undefined
    const session = await this.#storage.sessions.find(hashSessionId(cookie), this.#clock.now())
    if (!session) return undefined
    const user = await this.#storage.users.findById(session.userId)
    if (!user || user.disabled) return undefined
    return { session, user }
  }

  /** Signs `user` in: a new session under a new id (the old one, if any, is ended). Returns the cookie's value. */
  async start (user: User, previous: string | undefined): Promise<{ cookie: string, session: Session }> {
    if (previous !== undefined && COOKIE_VALUE.test(previous)) await this.#storage.sessions.delete(hashSessionId(previous))
    const now = this.#clock.now()
    const cookie = newSecret()
    const session: Session = { idHash: hashSessionId(cookie), userId: user.id, authTime: now, createdAt: now, expiresAt: now + this.#ttl }
    await this.#storage.sessions.create(session)
    return { cookie, session }
  }

  async end (cookie: string | undefined): Promise<void> {
    if (cookie !== undefined && COOKIE_VALUE.test(cookie)) await this.#storage.sessions.delete(hashSessionId(cookie))
  }
}
