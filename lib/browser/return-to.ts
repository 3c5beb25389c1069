/**
 * The pages of this server a sign-in may come back to besides an authorization request (whose `return_to` is
 * lib/oauth/authorize.ts safeReturnTo's): a fixed list of paths, compared exactly, so no value from a request can
 * name another place (no open redirect: SECURITY-CASES U5).
 */
export const ACCOUNT_PATH = '/account'

const LOCAL_PAGES: ReadonlySet<string> = new Set([ACCOUNT_PATH])

/** `value` when it is one of those pages, else undefined. */
export function localReturnTo (value: unknown): string | undefined {
  return typeof value === 'string' && LOCAL_PAGES.has(value) ? value : undefined
}

/**
 * What an upstream sign-in started by the account page's "link another" carries as its return (the transaction's
 * returnTo): not a path, so no other sign-in can be mistaken for a link, and nothing reads it as somewhere to go.
 */
export const LINK_TO_ACCOUNT = 'link:/account'
