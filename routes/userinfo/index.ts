import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { invalidToken } from '../../lib/errors.js'
import { userInfoClaims } from '../../lib/oauth/claims.js'
import { parseScope } from '../../lib/oauth/scopes.js'
import { userInfoGetSchema, userInfoPostSchema } from '../../schemas/browser.js'

/**
 * GET and POST /userinfo (OpenID Connect Core §5.3): bearer token with scope openid; callable from SPAs (CORS). The
 * token may also come as `access_token` in a form body (RFC 6750 §2.2, OIDC Core §5.3.1), on this route only.
 * JSON, or a signed JWT for a client registered with `userinfo_alg` (§5.3.2: fastify.userInfoReply).
 */
const userInfoRoutes: FastifyPluginAsync = async (fastify) => {
  const options = { config: { cors: true, bearerInFormBody: true }, preHandler: [fastify.authenticate, fastify.requireScope('openid')] }
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const user = request.auth?.user
    // A client's own token (client_credentials) names no user.
    if (!user) throw invalidToken('this token does not belong to a user')
    const claims = request.auth!.claims
    const answer = await fastify.userInfoReply(userInfoClaims(user, claims.scope, parseScope(claims.userinfo_claims)), claims.client_id)
    return 'jwt' in answer ? reply.type('application/jwt').send(answer.jwt) : answer.claims
  }
  fastify.get('/userinfo', { ...options, schema: userInfoGetSchema }, handler)
  fastify.post('/userinfo', { ...options, schema: userInfoPostSchema }, handler)
}

export default userInfoRoutes
