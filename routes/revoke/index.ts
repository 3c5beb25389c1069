import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { revokeToken } from '../../lib/oauth/revocation.js'
import { lookUpToken } from '../../lib/oauth/token-lookup.js'
import { revokeSchema } from '../../schemas/token-management.js'

/** POST /revoke (RFC 7009): the calling client's own tokens only (lib/oauth/revocation.ts). */
const revokeRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { storage, accessTokens, clock, config } = fastify

  fastify.post('/revoke', { config: { oauth: true, cors: true }, schema: revokeSchema }, async (request, reply) => {
    const { body } = request
    const client = await fastify.authenticateClient(request, { endpoint: '/revoke' })
    const found = await lookUpToken(body.token, body.token_type_hint, accessTokens, storage)
    await revokeToken(found, client.id, { storage, clock, accessTokenTtl: config.accessTokenTtl })
    // RFC 7009 §2.2: 200 whether or not there was anything to revoke; the body is empty.
    return reply.code(200).send('')
  })
}

export default revokeRoutes
