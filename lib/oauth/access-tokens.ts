import { randomUUID } from 'node:crypto'
import { createVerifier } from 'fast-jwt'
import type { Clock } from '../clock.js'
import { algorithmsOf, DEFAULT_ACCESS_TOKEN_ALG, type SigningAlg } from '../keys/algorithm.js'
import { publicKeyPem, type KeySet, type LoadedKey } from '../keys/signing-keys.js'
import { KeySigners } from '../keys/signers.js'
import { BoundedLru, sweepEvery } from '../limits/lru.js'
import { accessTokenVerifyOptions, CLOCK_LEEWAY_SECONDS, validityWindow, type AccessTokenClaims, type ActorClaim } from './access-token-rules.js'
import type { SubjectKind } from './subjects.js'

export { CLOCK_LEEWAY_SECONDS }
export type { AccessTokenClaims }

export interface IssueRequest {
  sub: string
  subKind: SubjectKind
  clientId: string
  scope: string
  grantId?: string
  /** For a user's token: their credential version, as read when they signed in (or as their grant holds it). */
  credentialVersion?: number
  /** The client's generation (absent for the built-in client and clients registered before generations). */
  clientGeneration?: string | null
  /** Chosen beforehand by a caller that records it first (an authorization code's redemption); default a new UUID. */
  jti?: string
  /** Claim names the `claims` parameter asked for at /userinfo (AccessTokenClaims.userinfo_claims). */
  userinfoClaims?: readonly string[]
  /** The `aud`: a registered resource's URI (RFC 8707); absent: AUDIENCE, Gatehouse's own API. */
  audience?: string
  /** RFC 8693 §4.1: the actor of a token issued by token exchange. */
  act?: ActorClaim
  /** RFC 9449 §6.1: the thumbprint of the DPoP key the token is bound to (`cnf.jkt`). */
  dpopJkt?: string
}

const MAX_HEADER_LENGTH = 1024
/** Verified tokens remembered by their exact text: as many, and for at most as long, as fast-jwt's own cache. */
const VERIFIED_CACHE_SIZE = 10_000
const VERIFIED_CACHE_TTL_MS = 600_000

export class InvalidAccessToken extends Error {}

type Verify = (token: string) => { header: Record<string, unknown>, payload: AccessTokenClaims }

/**
 * Signs and verifies access tokens with the current key set. Signers and verifiers are built once per key
 * (building one costs far more than using it), and each verifier allows exactly one algorithm (RFC 8725 §3.1)
 * and the `at+jwt` type (RFC 9068 §4). The `kid` header is only ever a map key. Verified tokens are remembered
 * by their exact text until their `exp` (plus the leeway), as fast-jwt's cache would, but found with one Map
 * lookup: fast-jwt keys its cache by a SHA-256 of the token, and the `kid` header must be decoded before it is
 * reached (together ~10% of a GET /users/me). Revocation is checked by the caller on every use, cached or not.
 * ID tokens are lib/oauth/id-tokens.ts's.
 */
export class AccessTokens {
  readonly #issuer: string
  readonly #audience: string
  readonly #ttl: number
  readonly #clock: Clock
  readonly #alg: SigningAlg
  readonly #stopSweeping: () => void
  readonly #confirmKeys: ((now: number) => Promise<void> | undefined) | undefined
  readonly #signers = new KeySigners('at+jwt')
  #verifiers = new Map<string, Verify>()
  readonly #verified: BoundedLru<string, { claims: AccessTokenClaims, from: number }>

  /**
   * `confirmKeys(now)` is awaited before each signature: it resolves once the key set can be trusted at
   * `now` (the key ring reloads it when it is too old, and rejects when it cannot: lib/keys/key-ring.ts).
   */
  constructor (options: { issuer: string, audience: string, ttl: number, clock: Clock, alg?: SigningAlg, confirmKeys?: (now: number) => Promise<void> | undefined }) {
    this.#alg = options.alg ?? DEFAULT_ACCESS_TOKEN_ALG
    this.#issuer = options.issuer
    this.#audience = options.audience
    this.#ttl = options.ttl
    this.#clock = options.clock
    this.#confirmKeys = options.confirmKeys
    this.#verified = new BoundedLru(VERIFIED_CACHE_SIZE, options.clock.nowMs)
    this.#stopSweeping = sweepEvery(60_000, this.#verified)
  }

  /** Stops the verified-token cache's sweeping timer. */
  close (): void { this.#stopSweeping() }

  get ttl (): number { return this.#ttl }

  /**
   * Swaps in a new key set; unchanged keys keep their signer and verifier. Only keys of ACCESS_TOKEN_ALG verify
   * access tokens: a token signed by another published key (an ID token's RS256 key) is not one of ours.
   */
  useKeys (keys: KeySet): void {
    this.#signers.useKeys(keys.published)
    const verifiers = new Map<string, Verify>()
    for (const key of keys.published) if (key.alg === this.#alg) verifiers.set(key.kid, this.#verifiers.get(key.kid) ?? this.#makeVerifier(key))
    this.#verifiers = verifiers
    // A token signed by a key that is no longer published must not verify from memory.
    this.#verified.clear()
  }

  /** Resolves once the keys can be trusted to sign at `at` (see the constructor); undefined when they already can. */
  ready (at: number): Promise<void> | undefined {
    return this.#confirmKeys?.(at)
  }

  /** Signs with the key of ACCESS_TOKEN_ALG that signs at `now` (lib/keys/signing-keys.ts `signingKeyAt`): a new key takes over at its `activatesAt` exactly. */
  async issue (request: IssueRequest, now: number): Promise<{ token: string, claims: AccessTokenClaims }> {
    await this.#confirmKeys?.(now)
    const claims: AccessTokenClaims = {
      iss: this.#issuer,
      sub: request.sub,
      aud: request.audience ?? this.#audience,
      exp: now + this.#ttl,
      iat: now,
      jti: request.jti ?? randomUUID(),
      client_id: request.clientId,
      sub_kind: request.subKind
    }
    if (request.scope) claims.scope = request.scope
    if (request.grantId) claims.grant_id = request.grantId
    if (request.credentialVersion !== undefined) claims.cred_ver = request.credentialVersion
    if (request.clientGeneration) claims.client_gen = request.clientGeneration
    if (request.userinfoClaims !== undefined && request.userinfoClaims.length > 0) claims.userinfo_claims = request.userinfoClaims.join(' ')
    if (request.act !== undefined) claims.act = request.act
    if (request.dpopJkt !== undefined) claims.cnf = { jkt: request.dpopJkt }
    return { token: this.#signers.sign(claims, now, this.#alg), claims }
  }

  /**
   * Returns the claims of a valid token for Gatehouse's own API (`aud` = AUDIENCE), or throws InvalidAccessToken
   * (never anything else): a token issued for a registered resource (RFC 8707) is that resource's, not ours.
   */
  verify (token: string): AccessTokenClaims {
    const claims = this.verifyAnyAudience(token)
    if (claims.aud !== this.#audience) throw new InvalidAccessToken('the token is for another resource (aud)')
    return claims
  }

  /**
   * The same checks, whatever the `aud` (AUDIENCE or a registered resource's URI: only Gatehouse signs either): for
   * introspection and revocation (RFC 7662, RFC 7009), which answer about every token Gatehouse issued.
   */
  verifyAnyAudience (token: string): AccessTokenClaims {
    const now = this.#clock.nowMs()
    const known = this.#verified.get(token)
    if (known !== undefined && now >= known.from) return known.claims
    const verify = this.#verifiers.get(kidOf(token))
    if (!verify) throw new InvalidAccessToken('unknown signing key')
    let claims: AccessTokenClaims & { nbf?: unknown }
    try {
      claims = verify(token).payload
    } catch (err) {
      throw new InvalidAccessToken((err as Error).message)
    }
    const window = validityWindow(claims)
    if (now < window.from || now > window.until) throw new InvalidAccessToken('the token is expired or not yet valid')
    // Gatehouse's tokens name one audience, as a string (RFC 9068 §2.2 allows a list; none of ours is one).
    if (typeof claims.aud !== 'string') throw new InvalidAccessToken('the token\'s aud is not one string')
    // Only validly signed tokens get here, at most VERIFIED_CACHE_SIZE of them (lib/limits/lru.ts), each until its exp.
    this.#verified.set(token, { claims, from: window.from }, Math.min(VERIFIED_CACHE_TTL_MS, window.until - now + 1))
    return claims
  }

  #makeVerifier (key: LoadedKey): Verify {
    return createVerifier({
      key: publicKeyPem(key.publicJwk),
      // exp and nbf are checked against Gatehouse's clock (validityWindow), not fast-jwt's Date.now.
      // `aud` is checked by `verify` (AUDIENCE) or left to the caller (`verifyAnyAudience`): one verifier serves both.
      ...accessTokenVerifyOptions(this.#issuer, this.#audience, algorithmsOf(key)),
      allowedAud: undefined,
      // No fast-jwt cache: #verified already remembers verified tokens (a second cache would only hash
      // every new token again to key it).
      complete: true
    }) as unknown as Verify
  }
}

/** The `kid` of a compact JWS, read as data; anything malformed is an invalid token. */
function kidOf (token: string): string {
  const dot = token.indexOf('.')
  if (dot <= 0 || dot > MAX_HEADER_LENGTH) throw new InvalidAccessToken('malformed token')
  let header: unknown
  try {
    header = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8'))
  } catch {
    throw new InvalidAccessToken('malformed token header')
  }
  const kid = (header as { kid?: unknown } | null)?.kid
  if (typeof kid !== 'string') throw new InvalidAccessToken('token header has no kid')
  return kid
}
