import fp from 'fastify-plugin'
import type { FastifyRequest, preHandlerAsyncHookHandler, preHandlerHookHandler } from 'fastify'
import { insufficientScope, invalidToken, missingToken } from '../lib/errors.js'
import type { AccessTokenClaims } from '../lib/oauth/access-token-rules.js'
import { InvalidAccessToken } from '../lib/oauth/access-tokens.js'
import { bearerTokenOf } from '../lib/oauth/bearer.js'
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
}

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler for RFC 6750 bearer-protected routes: sets `request.auth` or replies 401/400. */
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
  const { accessTokens, storage } = fastify
  fastify.decorateRequest('auth', null)

  const checkTokenStanding = (claims: AccessTokenClaims) => tokenStanding(claims, storage)
  fastify.decorate('checkTokenStanding', checkTokenStanding)

  /** Sets `request.auth` or throws; synchronous when the read cache holds every answer, else a promise. */
  const check = (request: FastifyRequest): Promise<void> | undefined => {
    const token = bearerTokenOf(request)
    let claims: AccessTokenClaims
    try {
      claims = accessTokens.verify(token)
    } catch (err) {
      if (err instanceof InvalidAccessToken) throw invalidToken()
      throw err
    }
    const cached = cachedTokenStanding(claims, storage.cache.peek)
    if (cached === false) throw invalidToken()
    if (cached !== undefined) {
      request.auth = { claims: claimsNow(claims, cached), user: cached.user }
      return undefined
    }
    return checkTokenStanding(claims).then((standing) => {
      if (!standing) throw invalidToken()
      request.auth = { claims: claimsNow(claims, standing), user: standing.user }
    })
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
    if (!hasScopes(request.auth.claims.scope, scopes)) throw insufficientScope(scopes.join(' '))
  })
}, { name: 'authenticate', dependencies: ['access-tokens', 'storage'] })
