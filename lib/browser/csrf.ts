import { createHash, timingSafeEqual } from 'node:crypto'
import { csrfRefused } from '../errors.js'
import { isSecretValue } from './cookies.js'

/**
 * CSRF for the browser forms: every form carries the value of the csrf cookie (double submit), compared in
 * constant time; a post whose Origin is another origin, or that the browser marks `Sec-Fetch-Site: cross-site`,
 * is refused too. The pages send `Referrer-Policy: no-referrer`, so browsers send `Origin: null` from them: that
 * says nothing either way. The csrf cookie is replaced at every sign-in, so a form rendered before it (another
 * session's, or a replayed one) is refused.
 */
export interface CsrfInput {
  /** The csrf cookie. */
  cookie: string | undefined
  /** The form's `csrf` field. */
  field: unknown
  origin: string | undefined
  fetchSite?: string | string[]
  issuerOrigin: string
}

/** Refuses (403) a form post that is not this browser's, or comes from another site. */
export function checkCsrf (input: CsrfInput): void {
  if (input.origin !== undefined && input.origin !== 'null' && input.origin !== input.issuerOrigin) throw csrfRefused()
  if (input.fetchSite === 'cross-site') throw csrfRefused()
  if (!isSecretValue(input.cookie) || typeof input.field !== 'string' || !sameSecret(input.cookie, input.field)) throw csrfRefused()
}

/** Constant time, whatever the lengths: both sides are hashed first. */
export function sameSecret (a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest())
}
