import type { FastifyPluginAsync } from 'fastify'
import { invalidToken } from '../../lib/errors.js'
import { userInfoClaims } from '../../lib/oauth/id-token.js'
import { userInfoGetSchema, userInfoPostSchema } from '../../schemas/browser.js'

/** GET and POST /userinfo (OpenID Connect Core §5.3): bearer token with scope openid; callable from SPAs (CORS). */
const userInfoRoutes: FastifyPluginAsync = async (fastify) => {
  const options = { config: { cors: true }, preHandler: [fastify.authenticate, fastify.requireScope('openid')] }
  const handler = async (request: import('fastify').FastifyRequest) => {
    const user = request.auth?.user
    // A client's own token (client_credentials) names no user.
    if (!user) throw invalidToken('this token does not belong to a user')
    return userInfoClaims(user, request.auth?.claims.scope)
  }
  fastify.get('/userinfo', { ...options, schema: userInfoGetSchema }, handler)
  fastify.post('/userinfo', { ...options, schema: userInfoPostSchema }, handler)
}

export default userInfoRoutes
