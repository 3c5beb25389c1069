import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { addRegistrationToken, listRegistrationTokens, removeRegistrationToken } from '../../lib/admin/registration-tokens.js'
import { adminBodyErrors, adminDeletion, adminErrors, adminSecurity, CreateRegistrationToken, RegistrationTokenIdParam, RegistrationTokenView } from '../../schemas/admin.js'

/** /admin/registration-tokens: RFC 7591 initial access tokens (scope admin), as `gatehouse registration-tokens` does. */
const adminRegistrationTokenRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { storage, clock } = fastify
  fastify.requireAdmin(fastify)
  const tags = ['admin']

  fastify.get('/admin/registration-tokens', {
    schema: {
      operationId: 'listRegistrationTokens',
      tags,
      security: adminSecurity,
      summary: 'List initial access tokens',
      description: 'The RFC 7591 initial access tokens of REGISTRATION=token, oldest first; never a token itself.',
      response: { 200: Type.Array(RegistrationTokenView, { description: 'every initial access token' }), ...adminErrors }
    }
  }, async () => listRegistrationTokens(storage))

  fastify.post('/admin/registration-tokens', {
    schema: {
      operationId: 'createRegistrationToken',
      tags,
      security: adminSecurity,
      summary: 'Make an initial access token',
      description: 'A token for POST /register (REGISTRATION=token), in this reply only (stored as a digest). Each registration spends one use.',
      body: CreateRegistrationToken,
      response: { 201: { ...RegistrationTokenView, description: 'the new token, with `token`' }, ...adminBodyErrors }
    }
  }, async (request, reply) => {
    const created = await addRegistrationToken(storage, clock, { expiresIn: request.body?.expires_in, maxUses: request.body?.max_uses })
    request.adminTarget = created.id
    return reply.code(201).send(created)
  })

  fastify.delete('/admin/registration-tokens/:id', {
    schema: adminDeletion(RegistrationTokenIdParam, {
      operationId: 'deleteRegistrationToken',
      summary: 'Delete an initial access token',
      description: 'It stops working at once; the clients it registered stay.',
      done: 'deleted'
    })
  }, async (request, reply) => {
    await removeRegistrationToken(storage, request.params.id)
    return reply.code(204).send(null)
  })
}

export default adminRegistrationTokenRoutes
