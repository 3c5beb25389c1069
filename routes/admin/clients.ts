import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { createClient, deleteClient, findClient, toClientView, updateClient } from '../../lib/services/client-admin.js'
import { adminBodyErrors, adminErrors, adminSecurity, checkedPage, ClientIdParam, ClientView, CreateClient, Paging, UpdateClient } from '../../schemas/admin.js'

/** /admin/clients: list, register, read, update, delete (scope admin). Deleting revokes the client's tokens. */
const adminClientRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { storage, clock, config } = fastify
  const deps = { storage, clock, config }
  fastify.requireAdmin(fastify)
  const tags = ['admin']

  fastify.get('/admin/clients', {
    schema: { tags, security: adminSecurity, summary: 'List clients', querystring: Paging, response: { 200: Type.Array(ClientView), ...adminErrors } }
  }, async (request) => (await storage.clients.list(checkedPage(request.query))).map(toClientView))

  fastify.post('/admin/clients', {
    schema: { tags, security: adminSecurity, summary: 'Register a client (the secret is in this reply only)', body: CreateClient, response: { 201: ClientView, ...adminBodyErrors } }
  }, async (request, reply) => {
    const b = request.body
    const { client, secret } = await createClient(storage, b.client_id, {
      isPublic: b.public ?? false, grantTypes: b.grant_types, scope: b.scope ?? null, redirectUris: b.redirect_uris ?? []
    })
    reply.code(201)
    return { ...toClientView(client), client_secret: secret }
  })

  fastify.get('/admin/clients/:client_id', {
    schema: { tags, security: adminSecurity, summary: 'Read a client', params: ClientIdParam, response: { 200: ClientView, ...adminErrors } }
  }, async (request) => toClientView(await findClient(storage, request.params.client_id)))

  fastify.patch('/admin/clients/:client_id', {
    schema: { tags, security: adminSecurity, summary: 'Update a client', params: ClientIdParam, body: UpdateClient, response: { 200: ClientView, ...adminBodyErrors } }
  }, async (request) => {
    const b = request.body
    const { client, secret } = await updateClient(deps, request.params.client_id, {
      grantTypes: b.grant_types, scope: b.scope, redirectUris: b.redirect_uris, rotateSecret: b.rotate_secret
    })
    return { ...toClientView(client), client_secret: secret }
  })

  fastify.delete('/admin/clients/:client_id', {
    schema: { tags, security: adminSecurity, summary: 'Delete a client and revoke its tokens', params: ClientIdParam, response: { 204: Type.Null(), ...adminBodyErrors } }
  }, async (request, reply) => {
    await deleteClient(deps, request.params.client_id)
    return reply.code(204).send(null)
  })
}

export default adminClientRoutes
