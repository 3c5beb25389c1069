import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import { BearerError, insufficientScope, invalidToken, missingToken } from '../lib/errors.js'
import { InvalidAccessToken, type AccessTokenClaims } from '../lib/oauth/access-tokens.js'
import { hasScopes } from '../lib/oauth/scopes.js'
import { tokenStanding, type Standing } from '../lib/oauth/token-standing.js'
import type { User } from '../lib/stores/types.js'

export interface Authenticated {
  claims: AccessTokenClaims
  /** The user the token was issued for; undefined for client (client_credentials) tokens. */
  user: User | undefined
}

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler for RFC 6750 bearer-protected routes: sets `request.auth` or replies 401/400. */
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
    /** preHandler that requires every listed scope (403 insufficient_scope); put it after `authenticate`. */
    requireScope: (...scopes: string[]) => preHandlerAsyncHookHandler
    /** The standing of a verified token (lib/oauth/token-standing.ts): undefined when it must be refused. */
    checkTokenStanding: (claims: AccessTokenClaims) => Promise<Standing | undefined>
  }
  interface FastifyRequest {
    auth: Authenticated | null
  }
}

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i

export default fp(async (fastify) => {
  const { accessTokens, storage } = fastify
  fastify.decorateRequest('auth', null)

  const checkTokenStanding = (claims: AccessTokenClaims) => tokenStanding(claims, storage)
  fastify.decorate('checkTokenStanding', checkTokenStanding)

  fastify.decorate('authenticate', async (request: FastifyRequest) => {
    const header = request.headers.authorization
    // Only the header method is supported (RFC 6750 §2.1); a token in the query string is ignored (ASVS 14.2.1).
    if (header === undefined || !/^bearer(\s|$)/i.test(header)) throw missingToken()
    const body = request.body as Record<string, unknown> | undefined
    if (body && typeof body === 'object' && 'access_token' in body) {
      throw new BearerError('invalid_request', 'the token was sent in more than one way')
    }
    const match = BEARER.exec(header)
    const token = match?.[1]
    if (token === undefined) throw invalidToken('malformed bearer token')
    let claims: AccessTokenClaims
    try {
      claims = accessTokens.verify(token)
    } catch (err) {
      if (err instanceof InvalidAccessToken) throw invalidToken()
      throw err
    }
    const standing = await checkTokenStanding(claims)
    if (!standing) throw invalidToken()
    request.auth = { claims, user: standing.user }
  })

  fastify.decorate('requireScope', (...scopes: string[]): preHandlerAsyncHookHandler => async (request) => {
    if (!request.auth) throw missingToken()
    if (!hasScopes(request.auth.claims.scope, scopes)) throw insufficientScope(scopes.join(' '))
  })
}, { name: 'authenticate', dependencies: ['access-tokens', 'storage'] })
