import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { invalidClient } from '../../lib/errors.js'
import { fishingPacer, introspect } from '../../lib/oauth/introspection.js'
import { introspectSchema } from '../../schemas/token-management.js'

/** POST /introspect (RFC 7662), for resource servers, which are confidential clients (lib/oauth/introspection.ts). */
const introspectRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { storage, accessTokens, clock, config, throttle } = fastify
  const deps = { storage, accessTokens, clock, issuer: config.issuer, audience: config.audience }
  const pace = fishingPacer({ counters: throttle, clock, log: fastify.log })
  const delayed = fastify.metrics.registry.counter('gatehouse_introspection_delayed_total', 'Introspection answers about unknown tokens delayed by the fishing limit.')

  fastify.post('/introspect', { config: { oauth: true }, schema: introspectSchema }, async (request) => {
    const { body } = request
    const client = await fastify.authenticateClient(request, { endpoint: '/introspect' })
    if (client.isPublic) throw invalidClient(false, 'introspection is for confidential clients')
    const { answer, unknown } = await introspect(body.token, body.token_type_hint, client.id, deps)
    // Token fishing (RFC 7662 §4): unknown tokens only, after the answer is known; delayed, never refused.
    if (unknown && await pace(client.id)) delayed.inc()
    return answer
  })
}

export default introspectRoutes
