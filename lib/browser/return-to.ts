import { isDevicePagePath } from '../oauth/device-codes.js'

/**
 * The pages of this server a sign-in may come back to besides an authorization request (whose `return_to` is
 * lib/oauth/authorize.ts safeReturnTo's): a fixed list of paths, compared exactly, so no value from a request can
 * name another place (no open redirect: SECURITY-CASES U5).
 */
export const ACCOUNT_PATH = '/account'

const LOCAL_PAGES: ReadonlySet<string> = new Set([ACCOUNT_PATH])

/**
 * The second-factor pages (routes/browser/login-factor.ts, login-enroll.ts): the step-up asks a signed-in
 * user for the factor they have; a user with none enrols one first. Either replaces the session by one whose `amr`
 * shows two factors and comes back to `return_to`, where the mfa prompt then passes.
 */
export const STEP_UP_PATH = '/login/factor'
export const ENROL_PATH = '/login/enroll'

/** `path` carrying `returnTo` (a sign-in step's page: /login, /login/factor, /login/enroll), or `path` alone without one. */
export const withReturnTo = (path: string, returnTo: string | null | undefined): string =>
  returnTo === null || returnTo === undefined ? path : `${path}?return_to=${encodeURIComponent(returnTo)}`

/**
 * `value` when it is one of those pages, or the device page for one user code (RFC 8628: a sign-in started there
 * comes back to it; lib/oauth/device-codes.ts has its one shape), else undefined.
 */
export function localReturnTo (value: unknown): string | undefined {
  return typeof value === 'string' && (LOCAL_PAGES.has(value) || isDevicePagePath(value)) ? value : undefined
}

/**
 * What an upstream sign-in started by the account page's "link another" carries as its return (the transaction's
 * returnTo): not a path, so no other sign-in can be mistaken for a link, and nothing reads it as somewhere to go.
 */
export const LINK_TO_ACCOUNT = 'link:/account'
