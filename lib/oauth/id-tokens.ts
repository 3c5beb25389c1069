import { createVerifier } from 'fast-jwt'
import { algorithmsOf, DEFAULT_ID_TOKEN_ALG, type SigningAlg } from '../keys/algorithm.js'
import { publicKeyPem, type KeySet, type LoadedKey } from '../keys/signing-keys.js'
import { KeySigners } from '../keys/signers.js'
import { idTokenClaims, type IdTokenInput } from './id-token.js'

/**
 * OpenID Connect ID tokens (Core §2): signed RS256 (Core §15.1) or with the client's `id_token_alg`, from the
 * same key ring as access tokens, but header `typ: JWT`, so one can never pass for an access token (RFC 9068 §4
 * wants `at+jwt`; RFC 8725 §3.11). They live as long as the access token issued with them. The claims are
 * lib/oauth/id-token.ts's. Signed /userinfo replies (Core §5.3.2) are signed here too.
 */
export class IdTokens {
  readonly #issuer: string
  readonly #ttl: number
  readonly #confirmKeys: ((now: number) => Promise<void> | undefined) | undefined
  readonly #signers = new KeySigners('JWT')
  readonly #logoutSigners = new KeySigners('logout+jwt')
  #published: readonly LoadedKey[] = []

  /** `confirmKeys(now)` is awaited before each signature, as for access tokens (lib/oauth/access-tokens.ts). */
  constructor (options: { issuer: string, ttl: number, confirmKeys?: (now: number) => Promise<void> | undefined }) {
    this.#issuer = options.issuer
    this.#ttl = options.ttl
    this.#confirmKeys = options.confirmKeys
  }

  useKeys (keys: KeySet): void {
    this.#published = keys.published
    this.#signers.useKeys(keys.published)
    this.#logoutSigners.useKeys(keys.published)
  }

  /**
   * A Back-Channel Logout 1.0 logout token (claims from lib/oauth/backchannel-logout.ts), signed as the client's ID
   * tokens are, with header `typ: logout+jwt` (§2.4), so it can never pass for an ID token or an access token.
   */
  async logoutToken (claims: object, now: number, alg?: SigningAlg | null): Promise<string> {
    await this.#confirmKeys?.(now)
    return this.#logoutSigners.sign(claims, now, alg ?? DEFAULT_ID_TOKEN_ALG)
  }

  /** An ID token issued at `now`, with the key of `alg` (default RS256) that signs then (OIDC Core §3.1.3.3). */
  async sign (input: Omit<IdTokenInput, 'issuer' | 'now' | 'ttl'>, now: number, alg?: SigningAlg | null): Promise<string> {
    await this.#confirmKeys?.(now)
    return this.#signers.sign(idTokenClaims({ ...input, issuer: this.#issuer, now, ttl: this.#ttl }), now, alg ?? DEFAULT_ID_TOKEN_ALG)
  }

  /**
   * A /userinfo reply as a signed JWT (OIDC Core §5.3.2), for a client registered with `userinfo_alg`: the
   * claims, plus `iss` and `aud` = the client (they must be there when signed), with the key of `alg`.
   */
  async signUserInfo (claims: object, clientId: string, alg: SigningAlg, now: number): Promise<string> {
    await this.#confirmKeys?.(now)
    return this.#signers.sign({ ...claims, iss: this.#issuer, aud: clientId }, now, alg)
  }

  /** The subject and audience of an `id_token_hint` this issuer signed (`readIdTokenHint`). */
  hint (token: string): { sub: string, aud: string, sid?: string } | undefined {
    return readIdTokenHint(token, this.#published, this.#issuer)
  }
}

/**
 * The claims of an ID token `issuer` signed (an `id_token_hint`, OIDC RP-Initiated Logout §2): signature by one
 * of the `published` keys, with that key's own algorithm only (`algorithmsOf`: RS256 or ES256 as the key is,
 * never `none`, HS256 or the other one), typ JWT, that `iss`; expiry is not checked (a hint may be old).
 * Undefined otherwise.
 */
export function readIdTokenHint (token: string, published: readonly LoadedKey[], issuer: string): { sub: string, aud: string, sid?: string } | undefined {
  try {
    const key = published.find((k) => k.kid === kidOf(token))
    if (!key) return undefined
    const verify = createVerifier({ key: publicKeyPem(key.publicJwk), algorithms: algorithmsOf(key), checkTyp: 'JWT', allowedIss: issuer, ignoreExpiration: true, ignoreNotBefore: true })
    const payload = verify(token) as { sub?: unknown, aud?: unknown, sid?: unknown }
    const aud = Array.isArray(payload.aud) ? payload.aud[0] : payload.aud
    if (typeof payload.sub !== 'string' || typeof aud !== 'string') return undefined
    return typeof payload.sid === 'string' ? { sub: payload.sub, aud, sid: payload.sid } : { sub: payload.sub, aud }
  } catch {
    return undefined
  }
}

/** The `kid` of a compact JWS's header; throws on anything malformed (the caller reads that as "not ours"). */
function kidOf (token: string): unknown {
  return (JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8')) as { kid?: unknown } | null)?.kid
}
