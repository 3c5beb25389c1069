import type { FastifyPluginAsync } from 'fastify'
import { listKeys, rotateKeys } from '../../lib/admin/keys.js'
import { consoleKeySchemas } from '../../schemas/console-keys.js'
import { logChange } from './change.js'
import type { ConsoleDeps } from './deps.js'

/**
 * The console's signing-keys page: every key in the store with its state (lib/admin/keys.ts listKeys, as GET
 * /admin/keys) and a "Rotate keys" button (rotateKeys, as POST /admin/keys/rotate: the key_rotated event, and here
 * the admin_change event naming the new kid). After a rotation the page names the new key and when it starts signing.
 */
const keys: FastifyPluginAsync<ConsoleDeps> = async (fastify) => {
  const { storage, clock, config, events, signingKeys } = fastify

  fastify.get('/console/keys', { schema: consoleKeySchemas.keys, config: { browser: 'page' } }, async (request, reply) => {
    const now = clock.now()
    const list = await listKeys({ keys: storage.keys, now, config })
    const rotatedKid = (request.query as { rotated?: string }).rotated
    const rotated = rotatedKid === undefined ? undefined : list.find((k) => k.kid === rotatedKid)
    return reply.consolePage('keys', { keys: list, rotated, now })
  })

  fastify.post('/console/keys/rotate', { schema: consoleKeySchemas.rotateKeys, config: { browser: 'form' } }, async (request, reply) => {
    const rotation = await rotateKeys({ signingKeys, events, log: request.log })
    logChange(request, rotation.kid)
    return reply.redirect(`/console/keys?rotated=${encodeURIComponent(rotation.kid)}`, 303)
  })
}

export default keys
