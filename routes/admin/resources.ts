import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { checkedPage } from '../../lib/admin/page.js'
import { addResource, removeResource, toResourceView } from '../../lib/admin/resources.js'
import { adminBodyErrors, adminDeletion, adminErrors, adminSecurity, Paging } from '../../schemas/admin.js'
import { ref } from '../../schemas/common.js'
import { CreateResource, ResourceUriParam, ResourceView } from '../../schemas/resources.js'

/** /admin/resources: list, register, remove RFC 8707 resources (scope admin), as `gatehouse resources` does. */
const adminResourceRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { storage, config } = fastify
  fastify.requireAdmin(fastify)
  const tags = ['admin']

  fastify.get('/admin/resources', {
    schema: {
      operationId: 'listResources',
      tags,
      security: adminSecurity,
      summary: 'List resources',
      description: 'RFC 8707 resources (APIs, MCP servers) ordered by URI, a page at a time (`limit` defaults to 100, `offset` to 0).',
      querystring: Paging,
      response: { 200: Type.Array(ref(ResourceView), { description: 'a page of resources' }), ...adminErrors }
    }
  }, async (request) => (await storage.resources.list(checkedPage(request.query))).map(toResourceView))

  fastify.post('/admin/resources', {
    schema: {
      operationId: 'createResource',
      tags,
      security: adminSecurity,
      summary: 'Register a resource',
      description: 'Clients may then ask for tokens with `resource` = its URI (RFC 8707): their `aud` is that URI and they carry only the scopes it defines.',
      body: CreateResource,
      response: { 201: ref(ResourceView, 'the new resource'), ...adminBodyErrors }
    }
  }, async (request, reply) => {
    const resource = await addResource({ storage, audience: config.audience }, request.body)
    request.adminTarget = resource.uri
    reply.code(201)
    return toResourceView(resource)
  })

  fastify.delete('/admin/resources/:uri', {
    schema: adminDeletion(ResourceUriParam, {
      operationId: 'deleteResource',
      summary: 'Remove a resource',
      description: 'The URI percent-encoded as one path segment. Its tokens stop being active at introspection, and no grant may name it again (invalid_target).',
      done: 'removed'
    })
  }, async (request, reply) => {
    await removeResource(storage, request.params.uri)
    return reply.code(204).send(null)
  })
}

export default adminResourceRoutes
