import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { CLOCK_LEEWAY_SECONDS } from '../../lib/oauth/access-tokens.js'
import { requireClient } from '../../lib/oauth/client-auth.js'
import { lookUpToken } from '../../lib/oauth/token-lookup.js'
import { revokeSchema } from '../../schemas/token-management.js'

/**
 * POST /revoke (RFC 7009). A client may revoke only its own tokens; for anything else (unknown, expired,
 * another client's) the answer is the same 200, so the endpoint tells nothing about foreign tokens.
 * Revoking a refresh token revokes its whole grant, access tokens included (§2.1); an access token is
 * put on the jti deny-list until it would have expired.
 */
const revokeRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { storage, accessTokens, tokenIssuer } = fastify

  fastify.post('/revoke', { config: { oauth: true }, schema: revokeSchema }, async (request, reply) => {
    const { body } = request
    const client = await requireClient(request.headers.authorization, body, storage.clients)
    const found = await lookUpToken(body.token, body.token_type_hint, accessTokens, storage)
    if (found?.kind === 'access_token' && found.claims.client_id === client.id) {
      await storage.revocations.add([`jti:${found.claims.jti}`], found.claims.exp + CLOCK_LEEWAY_SECONDS)
    } else if (found?.kind === 'refresh_token' && found.grant.clientId === client.id) {
      await storage.grants.revoke(found.grant.id, tokenIssuer.revokeOptions())
    }
    // RFC 7009 §2.2: 200 whether or not there was anything to revoke; the body is empty.
    return reply.code(200).send('')
  })
}

export default revokeRoutes
