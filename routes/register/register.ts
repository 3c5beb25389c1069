import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { bearerOf, REGISTRATION_BODY_LIMIT, registerClient, takeRegistrationLimit } from '../../lib/oauth/registration.js'
import { registerSchema } from '../../schemas/registration.js'
import { registrationBody, registrationDeps, requireRegistrationOn } from './shared.js'

/** POST /register (RFC 7591 §3): lib/oauth/registration.ts. Every answer is no-store: it may carry secrets. */
const registerRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const deps = registrationDeps(fastify)
  const registrations = fastify.metrics.registry.counter('gatehouse_client_registrations_total',
    'RFC 7591 registrations by result: registered, refused (bad metadata or initial access token), throttled (the per-address limit).', ['result'])
  for (const result of ['registered', 'refused', 'throttled']) registrations.inc([result], 0)

  fastify.post('/register', { bodyLimit: REGISTRATION_BODY_LIMIT, attachValidation: true, schema: registerSchema }, async (request, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
    requireRegistrationOn(fastify)
    try {
      await takeRegistrationLimit(fastify.throttle, request.addressKey)
    } catch (err) {
      registrations.inc(['throttled'])
      fastify.events.emit({ type: 'client_registration_throttled', ip: request.ip }, request.log)
      throw err
    }
    try {
      const registered = await registerClient(deps, {
        body: registrationBody(request),
        initialToken: bearerOf(request.headers.authorization),
        address: request.addressKey
      })
      registrations.inc(['registered'])
      fastify.events.emit({ type: 'client_registered', clientId: registered.client_id, mode: fastify.config.registration === 'token' ? 'token' : 'open', ip: request.ip }, request.log)
      return reply.code(201).send(registered)
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 400 || (err as { statusCode?: number }).statusCode === 401) registrations.inc(['refused'])
      throw err
    }
  })
}

export default registerRoutes
