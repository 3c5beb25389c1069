import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { authorizedRegistration, bearerOf, deleteRegistration, readRegistration, REGISTRATION_BODY_LIMIT, updateRegistration } from '../../lib/oauth/registration.js'
import { deleteRegistrationSchema, readRegistrationSchema, updateRegistrationSchema } from '../../schemas/registration.js'
import { registrationBody, registrationDeps, requireRegistrationOn } from './shared.js'

/** RFC 7592 GET, PUT and DELETE /register/{client_id}, each with the client's registration access token. */
const registrationClientRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const deps = registrationDeps(fastify)

  /** The client the request's registration access token opens (401 otherwise), and that token. */
  async function authorized (request: FastifyRequest) {
    requireRegistrationOn(fastify)
    const token = bearerOf(request.headers.authorization)
    const client = await authorizedRegistration(deps.storage, (request.params as { client_id: string }).client_id, token)
    return { client, token: token as string }
  }

  const noStore = { onRequest: async (_request: FastifyRequest, reply: import('fastify').FastifyReply) => { reply.header('cache-control', 'no-store').header('pragma', 'no-cache') } }

  fastify.get('/register/:client_id', { ...noStore, schema: readRegistrationSchema }, async (request) => {
    const { client, token } = await authorized(request)
    return readRegistration(deps, client, token)
  })

  fastify.put('/register/:client_id', { ...noStore, bodyLimit: REGISTRATION_BODY_LIMIT, attachValidation: true, schema: updateRegistrationSchema }, async (request) => {
    const { client, token } = await authorized(request)
    const { view, rotated } = await updateRegistration(deps, client, { body: registrationBody(request), registrationToken: token })
    fastify.events.emit({ type: 'client_registration_updated', clientId: client.id, ip: request.ip, secretRotated: rotated }, request.log)
    return view
  })

  fastify.delete('/register/:client_id', { ...noStore, bodyLimit: REGISTRATION_BODY_LIMIT, schema: deleteRegistrationSchema }, async (request, reply) => {
    const { client } = await authorized(request)
    await deleteRegistration(deps, client)
    fastify.events.emit({ type: 'client_registration_deleted', clientId: client.id, ip: request.ip }, request.log)
    return reply.code(204).send(null)
  })
}

export default registrationClientRoutes
