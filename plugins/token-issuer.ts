import fp from 'fastify-plugin'
import { RefreshTokens } from '../lib/oauth/refresh-tokens.js'
import { TokenIssuer } from '../lib/oauth/token-issuer.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Issues token replies; `tokenIssuer.refreshTokens` starts and rotates refresh-token families. */
    tokenIssuer: TokenIssuer
  }
}

export default fp(async (fastify) => {
  const { storage, accessTokens, idTokens, config, clock } = fastify
  const refreshTokens = new RefreshTokens({ storage, clock, config })
  fastify.decorate('tokenIssuer', new TokenIssuer({ accessTokens, idTokens, refreshTokens, clock }))
}, { name: 'token-issuer', dependencies: ['config', 'clock', 'storage', 'access-tokens', 'id-tokens'] })
