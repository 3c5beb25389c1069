import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { noteClientUse } from '../../lib/oauth/registration.js'
import { tokenSchema } from '../../schemas/token.js'

/**
 * POST /token (RFC 6749 §3.2). Reads top to bottom like the RFC: no-cache, form only and no repeated
 * parameters (both from the oauth-endpoint plugin), then: which grant, who is the client and may it use
 * the grant, hand over.
 */
const tokenRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { grants, storage, tokenIssuer: issuer, metrics, clock } = fastify

  fastify.post('/token', { config: { oauth: true, cors: true }, schema: tokenSchema }, async (request) => {
    const { body } = request
    const grant = grants.select(body)
    const client = await fastify.authenticateClient(request, { endpoint: '/token', grant })
    await issuer.ready()
    const reply = await grant.handle({ body, client, clientIp: request.ip, addressKey: request.addressKey, log: request.log })
    await noteClientUse(storage, client, clock.now())
    // Registered clients are counted together: their ids come from anyone (REGISTRATION=open), a label each would be unbounded.
    metrics.tokensIssued.inc([grant.grantType, client.registration === null ? client.id : 'registered'])
    return reply
  })
}

export default tokenRoutes
