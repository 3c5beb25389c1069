import fp from 'fastify-plugin'
import { openStorage } from '../lib/stores/index.js'
import type { Storage, UserStore } from '../lib/stores/types.js'

declare module 'fastify' {
  interface FastifyInstance {
    storage: Storage
    /** The user store (a shortcut for `storage.users`). */
    users: UserStore
  }
}

const PURGE_INTERVAL_MS = 10 * 60 * 1000

/** Opens the database `DATABASE_URL` names (migrating it), and closes it last on shutdown. */
export default fp(async (fastify) => {
  const storage = await openStorage(fastify.config.databaseUrl)
  fastify.decorate('storage', storage)
  fastify.decorate('users', storage.users)

  // Expired deny-list entries and dead refresh-token families are only clutter: sweep them now and then.
  const purge = setInterval(() => {
    const now = fastify.now()
    Promise.all([storage.revocations.purgeExpired(now), storage.grants.purgeExpired(now)])
      .catch((err) => fastify.log.warn({ err }, 'purging expired revocations and grants failed'))
  }, PURGE_INTERVAL_MS).unref()

  fastify.addHook('onClose', async () => {
    clearInterval(purge)
    await storage.close()
  })
}, { name: 'storage', dependencies: ['config', 'clock'] })
