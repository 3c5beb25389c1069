import { randomUUID } from 'node:crypto'
import { createSigner, createVerifier, type VerifierOptions } from 'fast-jwt'
import { CLOCK_LEEWAY_SECONDS, type Clock } from '../clock.js'
import { publicKeyPem, SIGNING_ALG, signingKeyAt, type KeySet, type LoadedKey, type SignerKey } from '../keys/signing-keys.js'
import { BoundedLru, sweepEvery } from '../limits/lru.js'
import type { SubjectKind } from './subjects.js'

/**
 * RFC 9068 access-token claims. `grant_id` ties tokens from a refresh-token family to it, for revocation.
 * Private claims that let admin changes reach issued tokens (lib/oauth/token-standing.ts): `sub_kind` (a user's
 * token or a client's own, lib/oauth/subjects.ts), `cred_ver` (the user's credential version it was issued
 * under) and `client_gen` (the client registration's generation). Tokens issued before they existed lack them.
 */
export interface AccessTokenClaims {
  iss: string
  sub: string
  aud: string
  exp: number
  iat: number
  jti: string
  client_id: string
  scope?: string
  grant_id?: string
  sub_kind?: SubjectKind
  cred_ver?: number
  client_gen?: string
}

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
}

export { CLOCK_LEEWAY_SECONDS }
const MAX_HEADER_LENGTH = 1024
/** Verified tokens remembered by their exact text: as many, and for at most as long, as fast-jwt's own cache. */
const VERIFIED_CACHE_SIZE = 10_000
const VERIFIED_CACHE_TTL_MS = 600_000

/** The claims every access token carries (RFC 9068 §2.2, plus client_id). */
export const REQUIRED_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id']

/**
 * What makes a JWT an access token of `issuer` for `audience`, as fast-jwt options: exactly one algorithm
 * (RFC 8725 §3.1), the `at+jwt` type (RFC 9068 §4; `application/at+jwt` and any case too), `iss`, `aud` and
 * the required claims. The one source for every verifier: the built-in one below, @fastify/jwt's
 * `request.jwtVerify()` for extension routes (plugins/jwt.ts) and the resource-server plugin.
 */
export function accessTokenRules (issuer: string, audience: string) {
  return {
    algorithms: [SIGNING_ALG],
    checkTyp: 'at+jwt',
    allowedIss: issuer,
    allowedAud: audience,
    requiredClaims: REQUIRED_CLAIMS
  } satisfies Partial<VerifierOptions>
}

/**
 * The rules as Gatehouse's own verifiers apply them: exp and nbf are checked against the injected clock
 * (`isWithinValidity`), not fast-jwt's Date.now.
 */
export function accessTokenVerifyOptions (issuer: string, audience: string) {
  return { ...accessTokenRules(issuer, audience), ignoreExpiration: true, ignoreNotBefore: true } satisfies Partial<VerifierOptions>
}

/** Whether a token with these claims may be used at `nowMs` (exp and nbf, with CLOCK_LEEWAY_SECONDS either way). */
export function isWithinValidity (claims: { exp?: unknown, nbf?: unknown }, nowMs: number): boolean {
  const window = validityWindow(claims)
  return nowMs >= window.from && nowMs <= window.until
}

export class InvalidAccessToken extends Error {}

type Sign = (payload: object) => string
type Verify = (token: string) => { header: Record<string, unknown>, payload: AccessTokenClaims }

/**
 * Signs and verifies access tokens with the current key set. Signers and verifiers are built once per key
 * (building one costs far more than using it), and each verifier allows exactly one algorithm (RFC 8725 §3.1)
 * and the `at+jwt` type (RFC 9068 §4). The `kid` header is only ever a map key. Verified tokens are remembered
 * by their exact text until their `exp` (plus the leeway), as fast-jwt's cache would, but found with one Map
 * lookup: fast-jwt keys its cache by a SHA-256 of the token, and the `kid` header must be decoded before it is
 * reached (together ~10% of a GET /users/me). Revocation is checked by the caller on every use, cached or not.
 */
export class AccessTokens {
  readonly #issuer: string
  readonly #audience: string
  readonly #ttl: number
  readonly #clock: Clock
  readonly #stopSweeping: () => void
  readonly #confirmKeys: ((now: number) => Promise<void> | undefined) | undefined
  #published: LoadedKey[] = []
  #signers = new Map<string, Sign>()
  #idTokenSigners = new Map<string, Sign>()
  #verifiers = new Map<string, Verify>()
  readonly #verified: BoundedLru<string, { claims: AccessTokenClaims, from: number }>

  /**
   * `confirmKeys(now)` is awaited before each signature: it resolves once the key set can be trusted at
   * `now` (the signing-keys plugin reloads it when it is too old, and rejects when it cannot).
   */
  constructor (options: { issuer: string, audience: string, ttl: number, clock: Clock, confirmKeys?: (now: number) => Promise<void> | undefined }) {
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

  /** Swaps in a new key set; unchanged keys keep their signer and verifier. */
  useKeys (keys: KeySet): void {
    this.#published = keys.published
    const signers = new Map<string, Sign>()
    const verifiers = new Map<string, Verify>()
    for (const key of keys.published) {
      const signer = this.#signers.get(key.kid)
      if (signer && key.privateKey) signers.set(key.kid, signer)
      verifiers.set(key.kid, this.#verifiers.get(key.kid) ?? this.#makeVerifier(key))
    }
    this.#signers = signers
    this.#idTokenSigners = new Map([...this.#idTokenSigners].filter(([kid]) => keys.published.some((k) => k.kid === kid && k.privateKey)))
    this.#verifiers = verifiers
    // A token signed by a key that is no longer published must not verify from memory.
    this.#verified.clear()
  }

  /** Resolves once the keys can be trusted to sign at `at` (see the constructor); undefined when they already can. */
  ready (at: number): Promise<void> | undefined {
    return this.#confirmKeys?.(at)
  }

  /** Signs with the key that signs at `now` (lib/keys/signing-keys.ts `signingKeyAt`): a new key takes over at its `activatesAt` exactly. */
  async issue (request: IssueRequest, now: number): Promise<{ token: string, claims: AccessTokenClaims }> {
    await this.#confirmKeys?.(now)
    const key = signingKeyAt(this.#published, now)
    if (!key) throw new Error('no signing key loaded')
    let sign = this.#signers.get(key.kid)
    if (!sign) this.#signers.set(key.kid, sign = this.#makeSigner(key))
    const claims: AccessTokenClaims = {
      iss: this.#issuer,
      sub: request.sub,
      aud: this.#audience,
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
    return { token: sign(claims), claims }
  }

  /**
   * Signs an OpenID Connect ID token (Core §2) with the key that signs at `now`: the same keys and ES256, but
   * header `typ: JWT`, so it can never pass for an access token (RFC 9068 §4 wants `at+jwt`; RFC 8725 §3.11).
   */
  async signIdToken (claims: Record<string, unknown>, now: number): Promise<string> {
    await this.#confirmKeys?.(now)
    const key = signingKeyAt(this.#published, now)
    if (!key) throw new Error('no signing key loaded')
    let sign = this.#idTokenSigners.get(key.kid)
    if (!sign) {
      sign = createSigner({ key: key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), algorithm: SIGNING_ALG, kid: key.kid, header: { alg: SIGNING_ALG, typ: 'JWT' } })
      this.#idTokenSigners.set(key.kid, sign)
    }
    return sign(claims)
  }

  /**
   * The claims of an ID token this issuer signed (an `id_token_hint`, OIDC RP-Initiated Logout §2): signature by
   * a published key, ES256, typ JWT, our `iss`; expiry is not checked (a hint may be old). Undefined otherwise.
   */
  idTokenHint (token: string): { sub: string, aud: string } | undefined {
    try {
      const key = this.#published.find((k) => k.kid === kidOf(token))
      if (!key) return undefined
      const payload = createVerifier({ key: publicKeyPem(key.publicJwk), algorithms: [SIGNING_ALG], checkTyp: 'JWT', allowedIss: this.#issuer, ignoreExpiration: true, ignoreNotBefore: true })(token) as { sub?: unknown, aud?: unknown }
      const aud = Array.isArray(payload.aud) ? payload.aud[0] : payload.aud
      return typeof payload.sub === 'string' && typeof aud === 'string' ? { sub: payload.sub, aud } : undefined
    } catch {
      return undefined
    }
  }

  /** Returns the claims of a valid token, or throws InvalidAccessToken (never anything else). */
  verify (token: string): AccessTokenClaims {
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
    // Only validly signed tokens get here, at most VERIFIED_CACHE_SIZE of them (lib/limits/lru.ts), each until its exp.
    this.#verified.set(token, { claims, from: window.from }, Math.min(VERIFIED_CACHE_TTL_MS, window.until - now + 1))
    return claims
  }

  #makeSigner (key: SignerKey): Sign {
    return createSigner({ key: key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), algorithm: SIGNING_ALG, kid: key.kid, header: { alg: SIGNING_ALG, typ: 'at+jwt' } })
  }

  #makeVerifier (key: LoadedKey): Verify {
    return createVerifier({
      key: publicKeyPem(key.publicJwk),
      // exp and nbf are checked against Gatehouse's clock (validityWindow), not fast-jwt's Date.now.
      ...accessTokenVerifyOptions(this.#issuer, this.#audience),
      // No fast-jwt cache: #verified already remembers verified tokens (a second cache would only hash
      // every new token again to key it).
      complete: true
    }) as unknown as Verify
  }
}

/**
 * When a token may be used, in milliseconds (RFC 7519 §4.1.4-5, with CLOCK_LEEWAY_SECONDS either way):
 * from its `nbf` (if any) until its `exp`. A token without a numeric `exp` is never valid.
 */
function validityWindow (claims: { exp?: unknown, nbf?: unknown }): { from: number, until: number } {
  const leeway = CLOCK_LEEWAY_SECONDS * 1000
  if (typeof claims.exp !== 'number') return { from: Infinity, until: -Infinity }
  if (claims.nbf !== undefined && typeof claims.nbf !== 'number') return { from: Infinity, until: -Infinity }
  return { from: typeof claims.nbf === 'number' ? claims.nbf * 1000 - leeway : -Infinity, until: claims.exp * 1000 + leeway }
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
