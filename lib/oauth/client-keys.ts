import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyOptions, type ProtectedHeaderParameters } from 'jose'
import type { Clock } from '../clock.js'
import { BoundedLru } from '../limits/lru.js'
import type { Client } from '../stores/types.js'
import { DocumentFetchError, type FetchedDocument } from '../upstream/document-fetch.js'
import { jwksProblem, MAX_JWKS_BYTES, type ClientJwks } from './client-key-rules.js'

/**
 * A client's public keys, to check what it signed (client assertions, RFC 7523; request objects, RFC 9101): the set
 * given inline, or the one at its jwks_uri, fetched by lib/upstream/document-fetch.ts (pinned public address, no
 * redirect, a size cap, UPSTREAM_TIMEOUT_MS) and kept per client in a bounded LRU. A signature by a key the set does
 * not have (an unknown kid: the client rotated) refetches the set, at most once every REFETCH_SECONDS per client.
 */

/** How long a fetched set is used before it is fetched again. */
export const JWKS_CACHE_SECONDS = 300
/** The least time between two fetches of one client's set (an unknown kid cannot make Gatehouse fetch in a loop). */
export const REFETCH_SECONDS = 10
/** How many clients' fetched sets one instance keeps. */
export const JWKS_CACHE_SIZE = 1_000
export const JWKS_CONTENT_TYPES = ['application/json', 'application/jwk-set+json'] as const

/** The client's keys cannot be had (its jwks_uri failed, or serves no usable set): `reason` is safe to log and show. */
export class ClientKeysUnavailable extends Error {
  constructor (readonly reason: string) {
    super(reason)
    this.name = 'ClientKeysUnavailable'
  }
}

/** No key of the client's set matches the signature's header (after a refetch, when one was allowed). */
export class NoMatchingClientKey extends Error {
  constructor () {
    super('no key of the client\'s JWK Set matches the signature (kid, alg)')
    this.name = 'NoMatchingClientKey'
  }
}

export interface ClientKeysDeps {
  clock: Clock
  /** GETs a jwks_uri (fetchDocument with its options bound). */
  fetch: (url: URL) => Promise<FetchedDocument>
  /** Told about each fetch that failed (the log). */
  onFetchFailed?: (clientId: string, reason: string) => void
}

interface CachedSet { uri: string, jwks: ClientJwks, fetchedAt: number }

export class ClientKeys {
  readonly #deps: ClientKeysDeps
  readonly #sets: BoundedLru<string, CachedSet>
  /** When each client's set was last fetched (ms), kept longer than the set itself: the refetch limit holds across expiry. */
  readonly #lastFetch: BoundedLru<string, number>
  /** Fetches under way, shared by the requests that need them (bounded like every request-keyed map). */
  readonly #inFlight: BoundedLru<string, Promise<CachedSet>>

  constructor (deps: ClientKeysDeps) {
    this.#deps = deps
    this.#sets = new BoundedLru(JWKS_CACHE_SIZE, () => deps.clock.nowMs())
    this.#lastFetch = new BoundedLru(JWKS_CACHE_SIZE, () => deps.clock.nowMs())
    this.#inFlight = new BoundedLru(JWKS_CACHE_SIZE, () => deps.clock.nowMs())
  }

  /**
   * Verifies `jwt` with the client's keys under `options` (algorithms, claims: jose's checks): the payload and
   * header, or jose's error; NoMatchingClientKey when no key fits; ClientKeysUnavailable when they cannot be had.
   */
  async verify (client: Pick<Client, 'id' | 'jwks' | 'jwksUri'>, jwt: string, options: JWTVerifyOptions): Promise<{ payload: JWTPayload, protectedHeader: ProtectedHeaderParameters }> {
    if (client.jwks !== null) return await verifyWith(client.jwks, jwt, options)
    if (client.jwksUri === null) throw new ClientKeysUnavailable('the client has no keys (jwks or jwks_uri)')
    const set = await this.#fetched(client.id, client.jwksUri, false)
    try {
      return await verifyWith(set.jwks, jwt, options)
    } catch (err) {
      if (!(err instanceof NoMatchingClientKey) || !this.#mayRefetch(client.id)) throw err
      // RFC 7517 §5 / OIDC Core §10.1.1: a key the set lacks may be a new one; fetch once more, then verify again.
      return await verifyWith((await this.#fetched(client.id, client.jwksUri, true)).jwks, jwt, options)
    }
  }

  /** Forgets a client's fetched set (its jwks_uri changed or it was deleted). */
  forget (clientId: string): void {
    this.#sets.delete(clientId)
    this.#lastFetch.delete(clientId)
  }

  #mayRefetch (clientId: string): boolean {
    const last = this.#lastFetch.peek(clientId)
    return last === undefined || this.#deps.clock.nowMs() - last >= REFETCH_SECONDS * 1000
  }

  async #fetched (clientId: string, uri: string, refresh: boolean): Promise<CachedSet> {
    const cached = this.#sets.get(clientId)
    if (!refresh && cached !== undefined && cached.uri === uri) return cached
    const key = `${clientId}\n${uri}`
    const pending = this.#inFlight.get(key)
    if (pending !== undefined) return await pending
    // A set that could not be fetched is not fetched again for REFETCH_SECONDS: a client whose jwks_uri is down (or
    // an attacker naming it) cannot make every request wait on a dead host.
    if (!refresh && cached === undefined && !this.#mayRefetch(clientId)) throw new ClientKeysUnavailable('its jwks_uri failed moments ago; not fetched again yet')
    const fetching = this.#fetch(clientId, uri)
    this.#inFlight.set(key, fetching, 60_000)
    try {
      return await fetching
    } finally {
      this.#inFlight.delete(key)
    }
  }

  async #fetch (clientId: string, uri: string): Promise<CachedSet> {
    this.#lastFetch.set(clientId, this.#deps.clock.nowMs(), 10 * JWKS_CACHE_SECONDS * 1000)
    try {
      const fetched = await this.#deps.fetch(new URL(uri))
      let jwks: unknown
      try { jwks = JSON.parse(fetched.body.toString('utf8')) } catch { throw new ClientKeysUnavailable('its jwks_uri does not serve JSON') }
      const problem = jwksProblem(jwks)
      if (problem !== undefined) throw new ClientKeysUnavailable(`its jwks_uri serves no usable JWK Set: ${problem}`)
      const set = { uri, jwks: jwks as ClientJwks, fetchedAt: this.#deps.clock.nowMs() }
      this.#sets.set(clientId, set, JWKS_CACHE_SECONDS * 1000)
      return set
    } catch (err) {
      const reason = err instanceof ClientKeysUnavailable || err instanceof DocumentFetchError ? (err as { reason: string }).reason : 'its jwks_uri could not be fetched'
      this.#sets.delete(clientId)
      this.#deps.onFetchFailed?.(clientId, reason)
      throw err instanceof ClientKeysUnavailable ? err : new ClientKeysUnavailable(`its jwks_uri failed: ${reason}`)
    }
  }
}

/** The fetch options of a jwks_uri (lib/upstream/document-fetch.ts). */
export const JWKS_FETCH = { maxBytes: MAX_JWKS_BYTES, contentTypes: JWKS_CONTENT_TYPES, allowPlainHttpLoopback: true, purpose: 'client JWK Set' } as const

async function verifyWith (jwks: ClientJwks, jwt: string, options: JWTVerifyOptions) {
  try {
    return await jwtVerify(jwt, createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]), options)
  } catch (err) {
    if (err instanceof joseErrors.JWKSNoMatchingKey) throw new NoMatchingClientKey()
    throw err
  }
}

/**
 * Why a JWT signed with a client's keys (a client assertion, a request object) was refused, in words for the client:
 * `claimWords` says what a wrong claim means where it is checked. No key material, no claim values beyond names.
 * What is not a refusal of the JWT is thrown again.
 */
export function signedJwtRefusal (err: unknown, claimWords: Partial<Record<string, string>>): string {
  if (err instanceof ClientKeysUnavailable) return `the client's keys cannot be had: ${err.reason}`
  if (err instanceof NoMatchingClientKey) return err.message
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'the signature does not verify with the client\'s keys'
  if (err instanceof joseErrors.JWTExpired) return 'it has expired (exp)'
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return `the ${err.claim} claim is missing`
    return claimWords[err.claim] ?? (err.claim === 'nbf' ? 'it is not valid yet (nbf)' : `the ${err.claim} claim is invalid`)
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'its alg is not accepted'
  if (err instanceof joseErrors.JOSEError) return 'it is not a valid signed JWT'
  throw err
}
