import fp from 'fastify-plugin'
import { AccessTokens } from '../lib/oauth/access-tokens.js'

declare module 'fastify' {
  interface FastifyInstance {
    accessTokens: AccessTokens
  }
}

/**
 * JWT access tokens (RFC 9068), signed with the active key of ACCESS_TOKEN_ALG and verified against every
 * published key of that algorithm.
 * This is fast-jwt (the engine under @fastify/jwt) used directly: @fastify/jwt binds one key at
 * registration, and signing with a per-call key rebuilds the signer each time (about 4× slower), which
 * does not fit key rotation on a hot token endpoint.
 */
export default fp(async (fastify) => {
  const { config } = fastify
  const { signingKeys } = fastify
  const accessTokens = new AccessTokens({
    issuer: config.issuer,
    audience: config.audience,
    ttl: config.accessTokenTtl,
    clock: fastify.clock,
    alg: config.accessTokenAlg,
    confirmKeys: (at) => signingKeys.confirm(at)
  })
  signingKeys.onChange((keys) => accessTokens.useKeys(keys))
  fastify.decorate('accessTokens', accessTokens)
  fastify.addHook('onClose', async () => { accessTokens.close() })
}, { name: 'access-tokens', dependencies: ['config', 'clock', 'signing-keys'] })
