import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { invalidClient, invalidRequest, unauthorizedClient, unsupportedGrantType } from '../../lib/errors.js'
import { authenticateClient, DEFAULT_CLIENT, readClientCredentials } from '../../lib/oauth/client-auth.js'
import { grantHandlers } from '../../lib/oauth/grants/index.js'
import { tokenSchema, type TokenRequestBody } from '../../schemas/token.js'

/**
 * POST /token (RFC 6749 §3.2). Reads top to bottom like the RFC: no-cache, form only and no repeated
 * parameters (both from the oauth-endpoint plugin), then: which grant, who is the client, may it use
 * the grant, hand over.
 */
const tokenRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { storage, passwords, tokenIssuer: issuer, config, throttle } = fastify

  fastify.post('/token', { config: { oauth: true }, schema: tokenSchema }, async (request) => {
    const body = request.body
    const grantType = body.grant_type ?? impliedGrantType(body)
    if (grantType === undefined) throw invalidRequest('missing parameter: grant_type')
    const grant = grantHandlers.get(grantType)
    if (!grant) throw unsupportedGrantType(`unsupported grant_type: ${grantType.slice(0, 64)}`)

    const credentials = readClientCredentials(request.headers.authorization, body)
    let client = DEFAULT_CLIENT
    if (credentials) client = await authenticateClient(credentials, storage.clients)
    else if (!grant.allowsAnonymous) throw invalidClient(false, 'client authentication is required')

    if (!client.grantTypes.includes(grant.grantType)) {
      throw unauthorizedClient(`this client may not use the ${grant.grantType} grant`)
    }
    return grant.handle({ body, client, storage, passwords, issuer, config, throttle, clientIp: request.ip, log: request.log })
  })
}

/**
 * The FastAPI tutorial's clients post only username and password (its OAuth2PasswordRequestForm makes
 * grant_type optional); Gatehouse serves them the same way. Anything else without grant_type is invalid.
 */
function impliedGrantType (body: TokenRequestBody): string | undefined {
  return body.username !== undefined && body.password !== undefined ? 'password' : undefined
}

export default tokenRoutes
