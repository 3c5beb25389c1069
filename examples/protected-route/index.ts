import type { FastifyPluginAsync } from 'fastify'
import { Type } from '@sinclair/typebox'
import { bearerSecurity } from '../../schemas/security.js'
import { bearerErrors } from '../../schemas/users.js'

const Item = Type.Object({ item_id: Type.String(), owner: Type.String() })

/**
 * The FastAPI tutorial's protected route, as an extension: start Gatehouse with
 * ROUTES_DIR=dist/examples/protected-route and this file is autoloaded after the built-in routes.
 * It needs a valid bearer token carrying the `items:read` scope.
 */
const protectedRoute: FastifyPluginAsync = async (fastify) => {
  fastify.get('/users/me/items', {
    preHandler: [fastify.authenticate, fastify.requireScope('items:read')],
    schema: {
      operationId: 'listMyItems',
      tags: ['users'],
      summary: 'Items of the signed-in user (example extension route)',
      description: 'The FastAPI tutorial\'s `read_own_items`: a bearer token with the scope `items:read`.',
      security: bearerSecurity('items:read'),
      response: { 200: Type.Array(Item, { description: 'the items' }), ...bearerErrors }
    }
  }, async (request) => {
    const username = request.auth?.user?.username ?? request.auth?.claims.sub ?? ''
    return [{ item_id: 'Foo', owner: username }]
  })
}

export default protectedRoute
