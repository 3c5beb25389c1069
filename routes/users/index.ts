import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { invalidToken } from '../../lib/errors.js'
import { toUserView } from '../../lib/admin/users.js'
import { meSchema } from '../../schemas/users.js'

/** GET /users/me: the tutorial's protected resource, behind a bearer token (RFC 6750). */
const userRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  // Synchronous handler and callback-style check: a steady request allocates no promise (bench/README.md).
  fastify.get('/users/me', { schema: meSchema, preHandler: fastify.authenticateHook }, (request) => {
    const user = request.auth?.user
    // A client's own token (client_credentials) names no user.
    if (!user) throw invalidToken('this token does not belong to a user')
    return toUserView(user)
  })
}

export default userRoutes
