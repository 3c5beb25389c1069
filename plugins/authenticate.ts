import fp from 'fastify-plugin'
import type { FastifyRequest, preHandlerAsyncHookHandler, preHandlerHookHandler } from 'fastify'
import { insufficientScope, invalidDpopToken, invalidToken, missingToken, type ResourceScheme } from '../lib/errors.js'
import type { AccessTokenClaims } from '../lib/oauth/access-token-rules.js'
import { InvalidAccessToken } from '../lib/oauth/access-tokens.js'
import { bearerTokenOf, dpopToken, usesDpopScheme } from '../lib/oauth/bearer.js'
import { asResourceRefusal, boundKeyOf, checkProofKey, refuseBoundAsBearer } from '../lib/oauth/dpop-resource.js'
import { hasScopes } from '../lib/oauth/scopes.js'
import { cachedTokenStanding, claimsNow, tokenStanding, type Standing } from '../lib/oauth/token-standing.js'
import type { User } from '../lib/stores/types.js'

export interface Authenticated {
  /**
   * The token's claims, with `scope` narrowed to the scopes that still hold (the user's and the client's
   * current ones, lib/oauth/token-standing.ts): what `requireScope` checks.
   */
  claims: AccessTokenClaims
  /** The user the token was issued for; undefined for client (client_credentials) tokens. */
  user: User | undefined
  /** How the token came: `Bearer` (RFC 6750), or `DPoP` (RFC 9449 §7.1: a bound token with a proof by its key). */
  scheme: ResourceScheme
}

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * preHandler for RFC 6750 bearer-protected routes, which also take DPoP-bound tokens (RFC 9449 §7.1:
     * `Authorization: DPoP` and a proof by the token's key): sets `request.auth` or replies 401/400.
     */
    authenticate: (request: FastifyRequest, reply: import('fastify').FastifyReply) => Promise<void>
    /**
     * The same check as `authenticate`, as a callback-style preHandler: when every answer is in the read
     * cache it completes without a promise (the built-in routes use it; `authenticate` is for `await`).
     */
    authenticateHook: preHandlerHookHandler
    /** preHandler that requires every listed scope (403 insufficient_scope); put it after `authenticate`. */
    requireScope: (...scopes: string[]) => preHandlerAsyncHookHandler
    /** The standing of a verified token (lib/oauth/token-standing.ts): undefined when it must be refused. */
    checkTokenStanding: (claims: AccessTokenClaims) => Promise<Standing | undefined>
    /**
     * RFC 9449 §7.1 for a verified token that came as `Authorization: DPoP <token>`: bound to a key, with a DPoP proof
     * of this request (its `ath` the token's hash) signed by that key and not seen before. Throws the BearerError to answer.
     */
    checkDpopBinding: (request: FastifyRequest, token: string, claims: AccessTokenClaims) => Promise<void>
  }
  interface FastifyRequest {
    auth: Authenticated | null
  }
  interface FastifyContextConfig {
    /** RFC 6750 §2.2: this route also takes the token as `access_token` in a form body (lib/oauth/bearer.ts); /userinfo only. */
    bearerInFormBody?: boolean
  }
}

export default fp(async (fastify) => {
  const { accessTokens, storage, dpop } = fastify
  fastify.decorateRequest('auth', null)

  const checkTokenStanding = (claims: AccessTokenClaims) => tokenStanding(claims, storage)
  fastify.decorate('checkTokenStanding', checkTokenStanding)

  const checkDpopBinding = async (request: FastifyRequest, token: string, claims: AccessTokenClaims) => {
    const jkt = boundKeyOf(claims)
    let proof
    try {
      proof = await dpop.check(request, { accessToken: token })
    } catch (err) {
      throw asResourceRefusal(err)
    }
    checkProofKey(jkt, proof)
  }
  fastify.decorate('checkDpopBinding', checkDpopBinding)

  /** The token's claims, or the scheme's refusal (`refusal()`) when it does not verify; any other failure passes on. */
  const verifyOr = (token: string, refusal: () => Error): AccessTokenClaims => {
    try {
      return accessTokens.verify(token)
    } catch (err) {
      if (err instanceof InvalidAccessToken) throw refusal()
      throw err
    }
  }

  /**
   * Sets `request.auth` or throws; synchronous when the read cache holds every answer, else a promise. A bearer token
   * costs one more test of the header (usesDpopScheme) and one claim read (refuseBoundAsBearer); the DPoP scheme is
   * `checkDpop`, which costs one proof check.
   */
  const check = (request: FastifyRequest): Promise<void> | undefined => {
    const header = request.headers.authorization
    if (usesDpopScheme(header)) return checkDpop(request, header)
    const claims = verifyOr(bearerTokenOf(request), invalidToken)
    refuseBoundAsBearer(claims)
    const cached = cachedTokenStanding(claims, storage.cache.peek)
    if (cached === false) throw invalidToken()
    if (cached !== undefined) {
      request.auth = { claims: claimsNow(claims, cached), user: cached.user, scheme: 'Bearer' }
      return undefined
    }
    return checkTokenStanding(claims).then((standing) => {
      if (!standing) throw invalidToken()
      request.auth = { claims: claimsNow(claims, standing), user: standing.user, scheme: 'Bearer' }
    })
  }

  /** RFC 9449 §7.1: `Authorization: DPoP <token>` with its proof; every refusal carries the DPoP challenge. */
  const checkDpop = async (request: FastifyRequest, header: string): Promise<void> => {
    const token = dpopToken(header, request.body)
    const claims = verifyOr(token, invalidDpopToken)
    await checkDpopBinding(request, token, claims)
    const cached = cachedTokenStanding(claims, storage.cache.peek)
    const standing = cached === undefined ? await checkTokenStanding(claims) : cached || undefined
    if (!standing) throw invalidDpopToken()
    request.auth = { claims: claimsNow(claims, standing), user: standing.user, scheme: 'DPoP' }
  }

  fastify.decorate('authenticate', async (request: FastifyRequest) => {
    await check(request)
  })
  fastify.decorate('authenticateHook', function (request, _reply, done) {
    let pending: Promise<void> | undefined
    try {
      pending = check(request)
    } catch (err) {
      done(err as Error)
      return
    }
    if (pending === undefined) done()
    else pending.then(() => done(), done)
  } satisfies preHandlerHookHandler)

  fastify.decorate('requireScope', (...scopes: string[]): preHandlerAsyncHookHandler => async (request) => {
    if (!request.auth) throw missingToken()
    if (!hasScopes(request.auth.claims.scope, scopes)) throw insufficientScope(scopes.join(' '), request.auth.scheme)
  })
}, { name: 'authenticate', dependencies: ['access-tokens', 'storage', 'dpop'] })
