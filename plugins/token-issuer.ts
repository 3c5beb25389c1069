import fp from 'fastify-plugin'
import { TokenIssuer } from '../lib/oauth/token-issuer.js'

declare module 'fastify' {
  interface FastifyInstance {
    tokenIssuer: TokenIssuer
  }
}

export default fp(async (fastify) => {
  const { storage, accessTokens, config } = fastify
  fastify.decorate('tokenIssuer', new TokenIssuer({ storage, accessTokens, config, now: fastify.now }))
}, { name: 'token-issuer', dependencies: ['config', 'clock', 'storage', 'access-tokens'] })
