import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { adminBodyErrors, adminSecurity, KeyRotation } from '../../schemas/admin.js'
import { ref } from '../../schemas/common.js'
import { rotationView } from '../../lib/admin/keys.js'

/** POST /admin/keys/rotate: the same as `gatehouse keys rotate` (scope admin). */
const adminKeyRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.requireAdmin(fastify)

  fastify.post('/admin/keys/rotate', {
    schema: {
      operationId: 'rotateSigningKey',
      tags: ['admin'],
      security: adminSecurity,
      summary: 'Rotate the signing keys',
      description: 'Adds a new signing key of each algorithm (RS256, ES256). Every instance publishes it within KEYS_REFRESH_SECONDS, and all sign with it from `activates_at`: ' +
        'after the largest KEY_PUBLISH_DELAY_SECONDS among running instances. The old key stays published until every token it signed has expired.',
      response: { 200: ref(KeyRotation, 'the new key'), ...adminBodyErrors }
    }
  }, async (request) => {
    const rotation = await fastify.signingKeys.rotate()
    request.adminTarget = rotation.kid
    fastify.events.emit({ type: 'key_rotated', kid: rotation.kid, activatesAt: rotation.activatesAt }, request.log)
    return rotationView(rotation)
  })
}

export default adminKeyRoutes
