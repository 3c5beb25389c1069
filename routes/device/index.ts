import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { invalidScope, tooManyRequests } from '../../lib/errors.js'
import { deviceScopes, deviceStartLimits, formatUserCode, startDeviceRequest } from '../../lib/oauth/device-codes.js'
import { resolveResources, resourceValues } from '../../lib/oauth/resources.js'
import { deviceAuthorizationSchema } from '../../schemas/device.js'
import { DEVICE_CODE_GRANT } from '../../schemas/vocabulary.js'

/**
 * POST /device_authorization (RFC 8628 §3.1, §3.2): the client authenticates as at /token and must hold the device
 * grant; its scopes are checked as at /authorize. Each request stores a row for 10 minutes, so they are counted per
 * client address (429 beyond DEVICE_STARTS).
 */
const deviceAuthorizationRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { storage, clock, config, throttle, metrics } = fastify
  const started = metrics.registry.counter('gatehouse_device_authorizations_started_total', 'Device authorization requests started at /device_authorization (RFC 8628), by client.', ['client_id'])

  fastify.post('/device_authorization', { config: { oauth: true, cors: true }, schema: deviceAuthorizationSchema }, async (request) => {
    const { body } = request
    const client = await fastify.authenticateClient(request, { endpoint: '/device_authorization', grant: { grantType: DEVICE_CODE_GRANT, allowsAnonymous: false }, documents: false })
    // RFC 8707: the APIs the tokens are for, each registered (invalid_target otherwise); the consent page names them.
    const resources = await resolveResources(resourceValues(body.resource), storage.resources)
    const { scopes, refused } = deviceScopes(client, body.scope)
    if (refused.length > 0) throw invalidScope(`scope not allowed: ${refused.join(' ').slice(0, 200)}`)
    const wait = await throttle.take(deviceStartLimits(request.addressKey))
    if (wait !== undefined) throw tooManyRequests(wait, 'too many device authorization requests from this address; wait a minute, then try again')
    const codes = await startDeviceRequest(storage, { client, scopes, resources: resources.map((r) => r.uri), now: clock.now() })
    started.inc([client.id])
    const userCode = formatUserCode(codes.userCode)
    const verificationUri = `${config.issuer}/device`
    return {
      device_code: codes.deviceCode,
      user_code: userCode,
      verification_uri: verificationUri,
      verification_uri_complete: `${verificationUri}?user_code=${userCode}`,
      expires_in: codes.expiresIn,
      interval: codes.interval
    }
  })
}

export default deviceAuthorizationRoutes
