import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { AdminError } from '../../lib/errors.js'
import { generateClientSecret, hashClientSecret } from '../../lib/oauth/client-secrets.js'
import { checkClientInput, createClient, deleteClient, toClientView } from '../../lib/services/client-admin.js'
import { adminBodyErrors, adminErrors, adminSecurity, checkedPage, ClientIdParam, ClientView, CreateClient, Paging, UpdateClient } from '../../schemas/admin.js'

/** /admin/clients: list, register, read, update, delete (scope admin). Deleting revokes the client's tokens. */
const adminClientRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { storage, tokenIssuer } = fastify
  fastify.requireAdmin(fastify)
  const tags = ['admin']

  const find = async (id: string) => {
    const client = await storage.clients.find(id)
    if (!client) throw new AdminError(`no client ${id.slice(0, 64)}`, 'not_found')
    return client
  }

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
  }, async (request) => toClientView(await find(request.params.client_id)))

  fastify.patch('/admin/clients/:client_id', {
    schema: { tags, security: adminSecurity, summary: 'Update a client', params: ClientIdParam, body: UpdateClient, response: { 200: ClientView, ...adminBodyErrors } }
  }, async (request) => {
    const current = await find(request.params.client_id)
    const b = request.body
    const next = {
      isPublic: current.isPublic,
      grantTypes: b.grant_types ?? current.grantTypes,
      scope: b.scope === undefined ? current.scope : b.scope,
      redirectUris: b.redirect_uris ?? current.redirectUris
    }
    checkClientInput(next)
    if (b.rotate_secret && current.isPublic) throw new AdminError('a public client has no secret', 'invalid')
    const secret = b.rotate_secret ? generateClientSecret() : undefined
    const updated = await storage.clients.update(current.id, {
      grantTypes: next.grantTypes, scope: next.scope, redirectUris: next.redirectUris,
      ...(secret === undefined ? {} : { secretHash: hashClientSecret(secret) })
    })
    if (!updated) throw new AdminError(`no client ${current.id}`, 'not_found')
    return { ...toClientView(updated), client_secret: secret }
  })

  fastify.delete('/admin/clients/:client_id', {
    schema: { tags, security: adminSecurity, summary: 'Delete a client and revoke its tokens', params: ClientIdParam, response: { 204: Type.Null(), ...adminBodyErrors } }
  }, async (request, reply) => {
    await deleteClient(storage, request.params.client_id, tokenIssuer.revokeOptions())
    return reply.code(204).send(null)
  })
}

export default adminClientRoutes
