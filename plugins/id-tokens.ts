import fp from 'fastify-plugin'
import { IdTokens } from '../lib/oauth/id-tokens.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** OpenID Connect ID tokens: signed with the key active at that second, `typ: JWT`; `hint()` reads an `id_token_hint`. */
    idTokens: IdTokens
  }
}

export default fp(async (fastify) => {
  const { config, signingKeys } = fastify
  const idTokens = new IdTokens({ issuer: config.issuer, ttl: config.accessTokenTtl, confirmKeys: (at) => signingKeys.confirm(at) })
  signingKeys.onChange((keys) => idTokens.useKeys(keys))
  fastify.decorate('idTokens', idTokens)
}, { name: 'id-tokens', dependencies: ['config', 'signing-keys'] })
