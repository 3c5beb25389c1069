import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { invalidDpopProof, tooManyRequests } from '../../lib/errors.js'
import { asTokenEndpointError } from '../../lib/oauth/dpop-binding.js'
import { checkPushedRequest } from '../../lib/oauth/pushed-request-check.js'
import { pushLimits, pushRequest } from '../../lib/oauth/pushed-requests.js'
import { pushedAuthorizationSchema } from '../../schemas/par.js'

/**
 * POST /par (RFC 9126): the client authenticates as at /token (every method Gatehouse supports, private_key_jwt with
 * the issuer, the token endpoint or /par as `aud`; a public client names itself with client_id, §2.1), its authorization request is checked now by the rules /authorize applies
 * (lib/oauth/pushed-request-check.ts), errors as JSON, and stored for 60 s under a new request_uri (lib/oauth/pushed-requests.ts).
 */
const pushedAuthorizationRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { storage, clock, throttle, idTokens, metrics, config } = fastify
  const pushed = metrics.registry.counter('gatehouse_pushed_authorization_requests_total', 'Authorization requests pushed to /par (RFC 9126), by client.', ['client_id'])
  const readIdTokenHint = (token: string) => idTokens.hint(token)

  fastify.post('/par', { config: { oauth: true, oauthRepeatable: ['resource'], cors: true }, schema: pushedAuthorizationSchema }, async (request, reply) => {
    const { body } = request
    const client = await fastify.authenticateClient(request, { endpoint: '/par' })
    // Every push stores a row, and a public client pushes with its id alone: bounded per address and per client.
    const wait = await throttle.take(pushLimits(request.addressKey, client.id))
    if (wait !== undefined) throw tooManyRequests(wait, 'too many pushed authorization requests; wait a minute, then try again')
    const requestObjects = { keys: fastify.clientKeys, issuer: config.issuer, now: clock.now() }
    // RFC 9449 §10.1: a proof at the push binds the code to its key, as dpop_jkt does (and must name the same key).
    const proof = await fastify.dpop.check(request).catch((err: unknown) => { throw asTokenEndpointError(err) })
    const parameters = await checkPushedRequest(body, client, { resources: storage.resources, readIdTokenHint, requestObjects })
    if (proof !== undefined) {
      if (parameters.dpop_jkt !== undefined && parameters.dpop_jkt !== proof.jkt) throw invalidDpopProof('dpop_jkt is not the thumbprint of the DPoP proof\'s key')
      parameters.dpop_jkt = proof.jkt
    }
    const { requestUri, expiresIn } = await pushRequest(storage, { client, parameters, now: clock.now() })
    pushed.inc([client.id])
    return reply.code(201).send({ request_uri: requestUri, expires_in: expiresIn })
  })
}

export default pushedAuthorizationRoutes
