import { createPublicKey, randomUUID } from 'node:crypto'
import { createSigner, createVerifier } from 'fast-jwt'
import { SIGNING_ALG, type KeySet, type LoadedKey } from '../keys.js'

/** RFC 9068 access-token claims. `grant_id` ties tokens from a refresh-token family to it, for revocation. */
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
}

export interface IssueRequest {
  sub: string
  clientId: string
  scope: string
  grantId?: string
}

/** At most this much clock skew is tolerated on exp/nbf (CONTRACT.md). */
export const CLOCK_LEEWAY_SECONDS = 10
const MAX_HEADER_LENGTH = 1024

export class InvalidAccessToken extends Error {}

type Sign = (payload: object) => string
type Verify = (token: string) => { header: Record<string, unknown>, payload: AccessTokenClaims }

/**
 * Signs and verifies access tokens with the current key set. Signers and verifiers are built once per key
 * (building one costs far more than using it), and each verifier allows exactly one algorithm (RFC 8725 §3.1)
 * and the `at+jwt` type (RFC 9068 §4). The `kid` header is only ever a map key. Verified tokens are cached by
 * fast-jwt until their `exp`; revocation is checked by the caller on every use, cached or not.
 */
export class AccessTokens {
  readonly #issuer: string
  readonly #audience: string
  readonly #ttl: number
  #signer: { kid: string, sign: Sign } | undefined
  #verifiers = new Map<string, Verify>()

  constructor (options: { issuer: string, audience: string, ttl: number }) {
    this.#issuer = options.issuer
    this.#audience = options.audience
    this.#ttl = options.ttl
  }

  get ttl (): number { return this.#ttl }

  /** Swaps in a new key set; unchanged keys keep their signer/verifier (and its cache). */
  useKeys (keys: KeySet): void {
    if (this.#signer?.kid !== keys.active.kid) this.#signer = { kid: keys.active.kid, sign: this.#makeSigner(keys.active) }
    const next = new Map<string, Verify>()
    for (const key of keys.published) next.set(key.kid, this.#verifiers.get(key.kid) ?? this.#makeVerifier(key))
    this.#verifiers = next
  }

  issue (request: IssueRequest, now: number): { token: string, claims: AccessTokenClaims } {
    if (!this.#signer) throw new Error('no signing key loaded')
    const claims: AccessTokenClaims = {
      iss: this.#issuer,
      sub: request.sub,
      aud: this.#audience,
      exp: now + this.#ttl,
      iat: now,
      jti: randomUUID(),
      client_id: request.clientId
    }
    if (request.scope) claims.scope = request.scope
    if (request.grantId) claims.grant_id = request.grantId
    return { token: this.#signer.sign(claims), claims }
  }

  /** Returns the claims of a valid token, or throws InvalidAccessToken (never anything else). */
  verify (token: string): AccessTokenClaims {
    const verify = this.#verifiers.get(kidOf(token))
    if (!verify) throw new InvalidAccessToken('unknown signing key')
    try {
      return verify(token).payload
    } catch (err) {
      throw new InvalidAccessToken((err as Error).message)
    }
  }

  #makeSigner (key: LoadedKey): Sign {
    return createSigner({ key: key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), algorithm: SIGNING_ALG, kid: key.kid, header: { alg: SIGNING_ALG, typ: 'at+jwt' } })
  }

  #makeVerifier (key: LoadedKey): Verify {
    const { kid: _kid, alg: _alg, use: _use, ...jwk } = key.publicJwk
    return createVerifier({
      key: createPublicKey({ key: jwk, format: 'jwk' }).export({ format: 'pem', type: 'spki' }).toString(),
      algorithms: [SIGNING_ALG],
      checkTyp: 'at+jwt',
      allowedIss: this.#issuer,
      allowedAud: this.#audience,
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'],
      clockTolerance: CLOCK_LEEWAY_SECONDS * 1000,
      complete: true,
      cache: 10_000
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
