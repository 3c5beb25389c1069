import type { FastifyPluginAsync } from 'fastify'
import { Type } from '@sinclair/typebox'
import { bearerSecurity } from '../../schemas/security.js'
import { bearerErrors } from '../../schemas/users.js'

const Item = Type.Object({ item_id: Type.String(), owner: Type.String() })

/**
 * The FastAPI tutorial's protected routes ("OAuth2 scopes"), as a Gatehouse extension: start Gatehouse with
 * ROUTES_DIR=dist/examples/protected-route and this file is autoloaded after the built-in routes.
 *
 *   FastAPI                                                   Gatehouse
 *   current_user: User = Depends(get_current_user)            await request.jwtVerify()  → request.user (the token's
 *                                                             claims), request.auth.user (the user, checked enabled)
 *   Security(get_current_active_user, scopes=["items"])       fastify.requireScope('items:read'), after the check
 *
 * request.jwtVerify() is @fastify/jwt's, bound to Gatehouse's keys (plugins/jwt.ts): signature by `kid` over the
 * current keys, typ at+jwt, iss, aud, exp, and the token's standing (not revoked, user enabled, client there);
 * a failure answers RFC 6750 (401 invalid_token). `fastify.authenticate` does the same checks on Gatehouse's
 * own cached verifier, for routes that must be as fast as GET /users/me.
 */
const protectedRoutes: FastifyPluginAsync = async (fastify) => {
  // @app.get("/users/me/items/") with Security(get_current_active_user, scopes=["items"])
  fastify.get('/users/me/items', {
    onRequest: [async (request) => { await request.jwtVerify() }, fastify.requireScope('items:read')],
    schema: {
      operationId: 'listMyItems',
      tags: ['users'],
      summary: 'Items of the signed-in user (example extension route)',
      description: 'The FastAPI tutorial\'s `read_own_items`: a bearer token with the scope `items:read`, checked by `request.jwtVerify()`.',
      security: bearerSecurity('items:read'),
      response: { 200: Type.Array(Item, { description: 'the items' }), ...bearerErrors }
    }
  }, async (request) => [{ item_id: 'Foo', owner: request.auth?.user?.username ?? request.user.sub }])

  // @app.get("/status/") with Depends(get_current_user): any valid token.
  fastify.get('/status', {
    preHandler: fastify.authenticate,
    schema: {
      operationId: 'getStatus',
      tags: ['operations'],
      summary: 'System status for any signed-in caller (example extension route)',
      description: 'The FastAPI tutorial\'s `read_system_status`: any valid bearer token, checked by `fastify.authenticate`.',
      security: bearerSecurity(),
      response: { 200: Type.Object({ status: Type.Literal('ok') }, { description: 'the system is up' }), ...bearerErrors }
    }
  }, async () => ({ status: 'ok' }))
}

export default protectedRoutes
