import fp from 'fastify-plugin'
import { IdTokens } from '../lib/oauth/id-tokens.js'
import { userInfoReplies, type UserInfoReply } from '../lib/oauth/signed-userinfo.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** OpenID Connect ID tokens: signed with the key of their algorithm active at that second, `typ: JWT`; `hint()` reads an `id_token_hint`. */
    idTokens: IdTokens
    /** A /userinfo reply for a client: the claims, or a signed JWT for a client with `userinfo_alg` (lib/oauth/signed-userinfo.ts). */
    userInfoReply: (claims: object, clientId: string) => Promise<UserInfoReply>
  }
}

export default fp(async (fastify) => {
  const { config, signingKeys, storage, clock } = fastify
  const idTokens = new IdTokens({ issuer: config.issuer, ttl: config.accessTokenTtl, confirmKeys: (at) => signingKeys.confirm(at) })
  signingKeys.onChange((keys) => idTokens.useKeys(keys))
  fastify.decorate('idTokens', idTokens)
  fastify.decorate('userInfoReply', userInfoReplies({ clients: storage.clients, idTokens, clock }))
}, { name: 'id-tokens', dependencies: ['config', 'clock', 'storage', 'signing-keys'] })
