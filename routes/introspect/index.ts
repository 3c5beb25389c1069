import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { invalidClient, tooManyRequests } from '../../lib/errors.js'
import { introspectionLimits } from '../../lib/oauth/brute-force.js'
import { requireClient } from '../../lib/oauth/client-auth.js'
import { introspect } from '../../lib/oauth/introspection.js'
import { introspectSchema } from '../../schemas/token-management.js'

/** POST /introspect (RFC 7662), for resource servers, which are confidential clients (lib/oauth/introspection.ts). */
const introspectRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { storage, accessTokens, clock, config, throttle } = fastify
  const deps = { storage, accessTokens, clock, issuer: config.issuer }

  fastify.post('/introspect', { config: { oauth: true }, schema: introspectSchema }, async (request) => {
    const { body } = request
    const client = await requireClient(request.headers.authorization, body, storage.clients)
    if (client.isPublic) throw invalidClient(false, 'introspection is for confidential clients')
    // Token fishing (RFC 7662 §4): too many inactive answers to one caller, and it must wait.
    const limits = introspectionLimits(client.id)
    const wait = await throttle.check(limits)
    if (wait !== undefined) throw tooManyRequests(wait, 'too many introspections of inactive tokens; try again later')
    const result = await introspect(body.token, body.token_type_hint, client.id, deps)
    if (!result.active) await throttle.fail(limits)
    return result
  })
}

export default introspectRoutes
