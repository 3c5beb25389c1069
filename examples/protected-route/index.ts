import type { FastifyPluginAsync } from 'fastify'

/**
 * The FastAPI tutorial's protected route, as an extension: start Gatehouse with
 * ROUTES_DIR=dist/examples/protected-route and this file is autoloaded after the built-in routes.
 * It needs a valid bearer token carrying the `items:read` scope.
 */
const protectedRoute: FastifyPluginAsync = async (fastify) => {
  fastify.get('/users/me/items', {
    preHandler: [fastify.authenticate, fastify.requireScope('items:read')],
    schema: {
      tags: ['users'],
      summary: 'Items of the signed-in user (example extension route)',
      security: [{ bearerAuth: ['items:read'] }]
    }
  }, async (request) => {
    const username = request.auth?.user?.username ?? request.auth?.claims.sub
    return [{ item_id: 'Foo', owner: username }]
  })
}

export default protectedRoute
