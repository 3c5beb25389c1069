import type { VerifierOptions } from 'fast-jwt'
import { CLOCK_LEEWAY_SECONDS } from '../clock.js'
import { SIGNING_ALGS, type SigningAlg } from '../keys/algorithm.js'
import type { SubjectKind } from './subjects.js'

/**
 * What makes a JWT one of Gatehouse's access tokens: the claims, the algorithm, the type and the leeway. A leaf
 * (it imports only constants and types), so the resource-server package (resource-server/index.ts) applies the
 * same rules as Gatehouse's own verifier (lib/oauth/access-tokens.ts) without loading the signer, the keys or
 * their caches.
 */

export { CLOCK_LEEWAY_SECONDS, SIGNING_ALGS }

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
  /**
   * The claims the authorization request's `claims` parameter asked for at /userinfo (OIDC Core §5.5), space-separated:
   * /userinfo reads them here (it has the user already; no grant to look up, and a code flow without refresh has none).
   */
  userinfo_claims?: string
  /**
   * RFC 8693 §4.1: who acts for `sub`, on a token issued by token exchange (lib/oauth/token-exchange.ts); nested when
   * the exchanged token already named an actor (the current actor outermost).
   */
  act?: ActorClaim
  /**
   * RFC 9449 §6.1 (RFC 7800): the token is bound to a DPoP key, `jkt` its RFC 7638 SHA-256 thumbprint
   * (lib/oauth/dpop-proof.ts): it is accepted only with a DPoP proof signed by that key, never as a bearer token.
   */
  cnf?: { jkt: string }
}

/** RFC 8693 §4.1: the actor (`sub`), and the one before it when the delegation is a chain. */
export interface ActorClaim {
  sub: string
  act?: ActorClaim
}

/** The claims every access token carries (RFC 9068 §2.2, plus client_id). */
export const REQUIRED_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id']

/**
 * What makes a JWT an access token of `issuer` for `audience`, as fast-jwt options: the `algorithms` allowed
 * (RFC 8725 §3.1: Gatehouse's own verifiers pass the one of the key at hand, lib/keys/algorithm.ts
 * `algorithmsOf`; the resource-server plugin, which cannot know ACCESS_TOKEN_ALG, both signing algorithms, each
 * only with a JWKS key that names it), the `at+jwt` type (RFC 9068 §4; `application/at+jwt` and any case too),
 * `iss`, `aud` and the required claims. The one source for every verifier: the built-in one
 * (lib/oauth/access-tokens.ts), @fastify/jwt's `request.jwtVerify()` for extension routes (plugins/jwt.ts) and
 * the resource-server plugin.
 */
export function accessTokenRules (issuer: string, audience: string, algorithms: readonly SigningAlg[] = SIGNING_ALGS) {
  return {
    algorithms: [...algorithms],
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
export function accessTokenVerifyOptions (issuer: string, audience: string, algorithms: readonly SigningAlg[]) {
  return { ...accessTokenRules(issuer, audience, algorithms), ignoreExpiration: true, ignoreNotBefore: true } satisfies Partial<VerifierOptions>
}

/**
 * When a token may be used, in milliseconds (RFC 7519 §4.1.4-5, with CLOCK_LEEWAY_SECONDS either way):
 * from its `nbf` (if any) until its `exp`. A token without a numeric `exp` is never valid.
 */
export function validityWindow (claims: { exp?: unknown, nbf?: unknown }): { from: number, until: number } {
  const leeway = CLOCK_LEEWAY_SECONDS * 1000
  if (typeof claims.exp !== 'number') return { from: Infinity, until: -Infinity }
  if (claims.nbf !== undefined && typeof claims.nbf !== 'number') return { from: Infinity, until: -Infinity }
  return { from: typeof claims.nbf === 'number' ? claims.nbf * 1000 - leeway : -Infinity, until: claims.exp * 1000 + leeway }
}

/** Whether a token with these claims may be used at `nowMs` (exp and nbf, with CLOCK_LEEWAY_SECONDS either way). */
export function isWithinValidity (claims: { exp?: unknown, nbf?: unknown }, nowMs: number): boolean {
  const window = validityWindow(claims)
  return nowMs >= window.from && nowMs <= window.until
}
