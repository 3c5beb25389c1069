import fp from 'fastify-plugin'
import { deploymentNamespace } from '../lib/config.js'
import { redisInvalidationBus } from '../lib/stores/invalidation-bus.js'
import { withReadCache, type CachedStorage } from '../lib/stores/cached.js'
import { openStorage } from '../lib/stores/index.js'
import type { UserStore } from '../lib/stores/types.js'

declare module 'fastify' {
  interface FastifyInstance {
    storage: CachedStorage
    /** The user store (a shortcut for `storage.users`). */
    users: UserStore
  }
}

/** Users and clients are cached for 1 s; the deny-list mirror syncs every second and is distrusted after 3 s without a sync. */
const CACHE = { ttlMs: 1000, syncMs: 1000, maxStaleMs: 3000 }

/** Opens the database `DATABASE_URL` names (migrating it), and closes it last on shutdown. */
export default fp(async (fastify) => {
  const { config, redis } = fastify
  const bus = redis && redisInvalidationBus(redis, `${deploymentNamespace(config)}invalidate`,
    (message, err) => fastify.log.warn({ err }, message))
  // Every bearer-token check reads the deny-list, the user and the client: served from memory, kept
  // fresh by local writes, a 1 s sync, and (with Redis) other instances' invalidations.
  const storage = await withReadCache(await openStorage(config.databaseUrl, fastify.clock), { ...CACHE, clock: fastify.clock }, bus)
  fastify.decorate('storage', storage)
  fastify.decorate('users', storage.users)

  // Expired rows are deleted by plugins/sweep.ts.

  fastify.addHook('onClose', async () => {
    bus?.close()
    await storage.close()
  })
}, { name: 'storage', dependencies: ['config', 'clock', 'redis'] })
