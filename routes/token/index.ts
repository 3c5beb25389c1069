import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { invalidClient, unauthorizedClient, unsupportedGrantType } from '../../lib/errors.js'
import { authenticateClient, DEFAULT_CLIENT, readClientCredentials } from '../../lib/oauth/client-auth.js'
import { grantHandlers } from '../../lib/oauth/grants/index.js'
import { tokenSchema } from '../../schemas/token.js'

/**
 * POST /token (RFC 6749 §3.2). Reads top to bottom like the RFC: no-cache, form only and no repeated
 * parameters (both from the oauth-endpoint plugin), then: which grant, who is the client, may it use
 * the grant, hand over.
 */
const tokenRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { storage, passwords, tokenIssuer: issuer, config } = fastify

  fastify.post('/token', { config: { oauth: true }, schema: tokenSchema }, async (request) => {
    const body = request.body
    const grant = grantHandlers.get(body.grant_type)
    if (!grant) throw unsupportedGrantType(`unsupported grant_type: ${body.grant_type.slice(0, 64)}`)

    const credentials = readClientCredentials(request.headers.authorization, body)
    let client = DEFAULT_CLIENT
    if (credentials) client = await authenticateClient(credentials, storage.clients)
    else if (!grant.allowsAnonymous) throw invalidClient(false, 'client authentication is required')

    if (!client.grantTypes.includes(grant.grantType)) {
      throw unauthorizedClient(`this client may not use the ${grant.grantType} grant`)
    }
    return grant.handle({ body, client, storage, passwords, issuer, config, log: request.log })
  })
}

export default tokenRoutes
