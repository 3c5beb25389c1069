/// <reference types="@fastify/jwt" preserve="true" />
import fp from 'fastify-plugin'
import fastifyJwt from '@fastify/jwt'
import type { FastifyRequest } from 'fastify'
import { invalidDpopToken, invalidToken } from '../lib/errors.js'
import { algorithmsOf } from '../lib/keys/algorithm.js'
import { publicKeyPem } from '../lib/keys/signing-keys.js'
import { accessTokenVerifyOptions, isWithinValidity, type AccessTokenClaims } from '../lib/oauth/access-token-rules.js'
import { bearerTokenOf, dpopToken, usesDpopScheme } from '../lib/oauth/bearer.js'
import { refuseBoundAsBearer } from '../lib/oauth/dpop-resource.js'
import { claimsNow } from '../lib/oauth/token-standing.js'

declare module '@fastify/jwt' {
  interface FastifyJWT {
    /** What `request.jwtVerify()` resolves to and `request.user` holds: the access token's claims. */
    payload: AccessTokenClaims
    user: AccessTokenClaims
  }
}

/** What `request.user` holds after `await request.jwtVerify()`. */
export type JwtUser = AccessTokenClaims

/** Verified tokens @fastify/jwt's fast-jwt verifier remembers (per key), by token digest; exp is checked on every call. */
const VERIFIED_CACHE_SIZE = 1000

/**
 * @fastify/jwt in verify-only mode, for extension routes (ROUTES_DIR): `await request.jwtVerify()` checks a
 * Gatehouse access token the way every @fastify/jwt tutorial shows, and sets `request.user` to its claims
 * (and `request.auth`, so `fastify.requireScope(...)` works after it). The checks are the built-in ones:
 * - the key: @fastify/jwt's secret function picks it by `kid` from the current key set (signing-keys), so a
 *   rotation needs no restart; a `kid` that is not published is invalid_token (it is only a map key, and
 *   nothing is ever fetched);
 * - the rules (algorithm, typ at+jwt, iss, aud, required claims) from the one source, lib/oauth/access-token-rules.ts,
 *   and exp/nbf against the injected clock;
 * - the token's standing (lib/oauth/token-standing.ts: revoked, disabled or deleted user, deleted client),
 *   as @fastify/jwt's `trusted` check;
 * - the token read by the same function as fastify.authenticate (lib/oauth/bearer.ts): the header, and a form body
 *   only on a route that opts in with `config: { bearerInFormBody: true }`;
 * - DPoP (RFC 9449 §7) as fastify.authenticate: `Authorization: DPoP` with a proof by the token's key
 *   (fastify.checkDpopBinding), and a DPoP-bound token sent as Bearer refused.
 * Failures are RFC 6750 replies (BearerError; FST_JWT_* codes are mapped in lib/http/framework-errors.ts).
 * The built-in routes keep fastify.authenticate and its own cached verifier: a verified-token lookup there
 * costs ~0.5 µs, a cached jwtVerify() ~20 µs.
 */
export default fp(async (fastify) => {
  const { config, clock, signingKeys } = fastify
  let keys = new Map<string, string>()
  // Only keys of ACCESS_TOKEN_ALG: the verifier below allows that algorithm alone (algorithmsOf).
  signingKeys.onChange((set) => {
    keys = new Map(set.published.filter((key) => key.alg === config.accessTokenAlg).map((key) => [key.kid, publicKeyPem(key.publicJwk)]))
  })

  const publicKey = async (_request: FastifyRequest, token: unknown): Promise<string> => {
    const kid = (token as { header?: { kid?: unknown } }).header?.kid
    const key = typeof kid === 'string' ? keys.get(kid) : undefined
    if (key === undefined) throw invalidToken()
    return key
  }

  await fastify.register(fastifyJwt, {
    secret: { public: publicKey },
    decode: { complete: true },
    verify: {
      ...accessTokenVerifyOptions(config.issuer, config.audience, algorithmsOf({ alg: config.accessTokenAlg })),
      cache: VERIFIED_CACHE_SIZE,
      extractToken: (request) => usesDpopScheme(request.headers.authorization) ? dpopToken(request.headers.authorization, request.body) : bearerTokenOf(request)
    },
    trusted: async (request: FastifyRequest, claims: unknown) => {
      const verified = claims as AccessTokenClaims
      const header = request.headers.authorization
      const dpop = usesDpopScheme(header)
      const refuse = dpop ? invalidDpopToken : invalidToken
      if (!isWithinValidity(verified, clock.nowMs())) throw refuse('the access token is expired or not yet valid')
      if (dpop) await fastify.checkDpopBinding(request, dpopToken(header, request.body), verified)
      else refuseBoundAsBearer(verified)
      const standing = await fastify.checkTokenStanding(verified)
      if (!standing) throw refuse()
      request.auth = { claims: claimsNow(verified, standing), user: standing.user, scheme: dpop ? 'DPoP' : 'Bearer' }
      return true
    }
  })
}, { name: 'jwt', dependencies: ['config', 'clock', 'signing-keys', 'authenticate'] })
