import { createHash } from 'node:crypto'
import type { Limit } from '../throttle.js'

/**
 * Brute-force limits on password sign-in (SECURITY-CASES P5, ASVS 6.1.1/6.3.1): at most 10 failed
 * guesses per account per 15 minutes, and 20 failures per client IP per minute. Unknown usernames count
 * like real ones. A limit blocks only that account or that IP: nobody else is locked out.
 */
export const ACCOUNT_FAILURES = { max: 10, windowSeconds: 15 * 60 }
export const IP_FAILURES = { max: 20, windowSeconds: 60 }

/** Keys are digests: counters never hold usernames or addresses in clear (they may be sent to Redis). */
const digest = (text: string) => createHash('sha256').update(text).digest('base64url').slice(0, 22)

export function signInLimits (username: string, ip: string): Limit[] {
  return [
    { key: `bf:acct:${digest(username)}`, ...ACCOUNT_FAILURES },
    { key: `bf:ip:${digest(ip)}`, ...IP_FAILURES }
  ]
}

/**
 * Introspection fishing (RFC 7662 §4): unknown tokens (neither a well-formed JWS nor a stored refresh
 * token) per calling client. A high rate: a resource server introspects whatever its own callers send it.
 * Beyond it, answers about unknown tokens are delayed, never refused (lib/oauth/introspection.ts).
 */
export const INTROSPECTION_UNKNOWN_TOKENS = { max: 1000, windowSeconds: 60 }

/** Client ids are not secret (and bounded to 128 characters): used as they are, no hash per request. */
export function introspectionLimits (clientId: string): Limit[] {
  return [{ key: `introspect-unknown:${clientId}`, ...INTROSPECTION_UNKNOWN_TOKENS }]
}
