import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { tooManyRequests } from '../../lib/errors.js'
import { requireClient } from '../../lib/oauth/client-auth.js'
import { checkPushedRequest } from '../../lib/oauth/pushed-request-check.js'
import { pushLimits, pushRequest } from '../../lib/oauth/pushed-requests.js'
import { pushedAuthorizationSchema } from '../../schemas/par.js'

/**
 * POST /par (RFC 9126): the client authenticates as at /introspect (every method Gatehouse supports; a public client
 * names itself with client_id, §2.1), its authorization request is checked now by the rules /authorize applies
 * (lib/oauth/pushed-request-check.ts), errors as JSON, and stored for 60 s under a new request_uri (lib/oauth/pushed-requests.ts).
 */
const pushedAuthorizationRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { storage, clock, throttle, idTokens, metrics } = fastify
  const pushed = metrics.registry.counter('gatehouse_pushed_authorization_requests_total', 'Authorization requests pushed to /par (RFC 9126), by client.', ['client_id'])
  const readIdTokenHint = (token: string) => idTokens.hint(token)

  fastify.post('/par', { config: { oauth: true, oauthRepeatable: ['resource'], cors: true }, schema: pushedAuthorizationSchema }, async (request, reply) => {
    const { body } = request
    const client = await requireClient(request.headers.authorization, body, fastify.clientLookup(request.addressKey))
    // Every push stores a row, and a public client pushes with its id alone: bounded per address and per client.
    const wait = await throttle.take(pushLimits(request.addressKey, client.id))
    if (wait !== undefined) throw tooManyRequests(wait, 'too many pushed authorization requests; wait a minute, then try again')
    const parameters = await checkPushedRequest(body, client, { resources: storage.resources, readIdTokenHint })
    const { requestUri, expiresIn } = await pushRequest(storage, { client, parameters, now: clock.now() })
    pushed.inc([client.id])
    return reply.code(201).send({ request_uri: requestUri, expires_in: expiresIn })
  })
}

export default pushedAuthorizationRoutes
