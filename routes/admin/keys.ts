import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { adminBodyErrors, adminErrors, adminSecurity, KeyRotation, SigningKeyView } from '../../schemas/admin.js'
import { ref } from '../../schemas/common.js'
import { listKeys, rotateKeys, rotationView } from '../../lib/admin/keys.js'

/** GET /admin/keys and POST /admin/keys/rotate: the same as `gatehouse keys list` and `gatehouse keys rotate` (scope admin). */
const adminKeyRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { storage, clock, config, events, signingKeys } = fastify
  fastify.requireAdmin(fastify)

  fastify.get('/admin/keys', {
    schema: {
      operationId: 'listSigningKeys',
      tags: ['admin'],
      security: adminSecurity,
      summary: 'List the signing keys',
      description: 'Every key in the store, in rotation order, with its state now: `next` (published, not signing yet), `signing`, `retired` ' +
        '(published until `published_until`, so the tokens it signed still verify) or `dropped` (out of the JWKS, deleted at the next key reload). ' +
        'Never a private key.',
      response: { 200: Type.Array(ref(SigningKeyView), { description: 'the keys, oldest first' }), ...adminErrors }
    }
  }, async () => listKeys({ keys: storage.keys, now: clock.now(), config }))

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
    const rotation = await rotateKeys({ signingKeys, events, log: request.log })
    request.adminTarget = rotation.kid
    return rotationView(rotation)
  })
}

export default adminKeyRoutes
