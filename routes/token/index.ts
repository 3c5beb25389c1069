import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { asTokenEndpointError, requireProofFor } from '../../lib/oauth/dpop-binding.js'
import { noteClientUse } from '../../lib/oauth/registration.js'
import { tokenSchema } from '../../schemas/token.js'

/**
 * POST /token (RFC 6749 §3.2). Reads top to bottom like the RFC: no-cache, form only and no repeated
 * parameters (both from the oauth-endpoint plugin), then: which grant, who is the client and may it use
 * the grant, its DPoP proof (RFC 9449 §5), hand over.
 */
const tokenRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { grants, storage, tokenIssuer: issuer, metrics, clock, dpop } = fastify

  fastify.post('/token', { config: { oauth: true, cors: true }, schema: tokenSchema }, async (request, reply) => {
    const { body } = request
    const grant = grants.select(body)
    const client = await fastify.authenticateClient(request, { endpoint: '/token', grant })
    // After the client is known (a proof never makes up for a failed authentication), before the grant spends anything.
    const proof = await dpop.check(request).catch((err: unknown) => { throw asTokenEndpointError(err) })
    requireProofFor(client, proof?.jkt)
    await issuer.ready()
    const tokens = await grant.handle({ body, client, clientIp: request.ip, addressKey: request.addressKey, dpopJkt: proof?.jkt, log: request.log })
    await noteClientUse(storage, client, clock.now())
    // Registered clients are counted together: their ids come from anyone (REGISTRATION=open), a label each would be unbounded.
    metrics.tokensIssued.inc([grant.grantType, client.registration === null ? client.id : 'registered'])
    // §8.2: the next nonce goes with a successful reply too, so the client need not fail once more when it changes.
    if (dpop.noncesRequired && proof !== undefined) reply.header('dpop-nonce', dpop.nonce())
    return tokens
  })
}

export default tokenRoutes
