import { digest } from '../credentials/digest.js'
import type { Limit } from '../limits/throttle.js'
import type { SignInKeys, SignInLimits } from './sign-in-reservation.js'

/**
 * Brute-force limits on password sign-in (SECURITY-CASES P5, ASVS 6.1.1/6.3.1), reserved atomically before
 * any hash (lib/oauth/sign-in-reservation.ts), so parallel guesses count one by one:
 *
 * - per account: at most 10 failed guesses per 15 minutes, from anywhere (unknown usernames count like real
 *   ones). Beyond it only that account waits.
 * - per address: at most 50 distinct accounts failed per minute. Each (address, account) pair counts once,
 *   however often it fails (the account limit bounds those), so many people behind one NAT or proxy who
 *   mistype their own passwords do not lock each other out; an address spraying one password over many
 *   accounts is stopped after 50 of them. A higher cap than the 20 failures a minute counted before, on a
 *   count that grows only with the number of accounts tried.
 */
export const ACCOUNT_FAILURES = { max: 10, windowSeconds: 15 * 60 }
export const ADDRESS_ACCOUNTS = { max: 50, windowSeconds: 60 }
/** The former name of the per-address limit. */
export const IP_FAILURES = ADDRESS_ACCOUNTS

export const SIGN_IN_LIMITS: SignInLimits = { account: ACCOUNT_FAILURES, address: ADDRESS_ACCOUNTS }

/** Keys are digests: counters never hold usernames or addresses in clear (they may be sent to Redis). 22 characters: 132 bits. */
const keyOf = (text: string) => digest(text).slice(0, 22)

/** `address` is the client's address key (lib/limits/address-key.ts: an IPv6 client by its network), never a raw address. */
export function signInKeys (username: string, address: string): SignInKeys {
  const account = keyOf(username)
  return {
    account: `bf:acct:${account}`,
    address: `bf:ip:${keyOf(address)}`,
    pair: `bf:pair:${keyOf(`${address}\u0000${username}`)}`,
    inFlight: `bf:busy:${account}`
  }
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

/**
 * Sign-ins started at upstream providers (GET /login/{name}) per client address: each stores a pending sign-in
 * (until it expires) and may make Gatehouse fetch the provider's discovery document, so a flood is refused with
 * 429 beyond this rate. A person starts a handful a minute.
 */
export const UPSTREAM_STARTS = { max: 60, windowSeconds: 60 }

/** `address`: the client's address key (lib/limits/address-key.ts). */
export function upstreamStartLimits (address: string): Limit[] {
  return [{ key: `upstream-start:${keyOf(address)}`, ...UPSTREAM_STARTS }]
}
