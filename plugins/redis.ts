import fp from 'fastify-plugin'
import type { Redis } from 'ioredis'

declare module 'fastify' {
  interface FastifyInstance {
    /** The Redis connection when REDIS_URL is set (shared brute-force counters, cache invalidations). */
    redis: Redis | undefined
  }
}

/**
 * Redis is optional and never on the critical path: commands fail fast instead of queueing while it is
 * away, and give up after REDIS_TIMEOUT_MS when it hangs (every user falls back to something local), and
 * /ready does not depend on it.
 */
export default fp(async (fastify) => {
  const url = fastify.config.redisUrl
  let redis: Redis | undefined
  if (url) {
    const { Redis: RedisClient } = await import('ioredis')
    redis = new RedisClient(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 1000, commandTimeout: fastify.config.redisTimeoutMs })
    redis.on('error', () => { /* reported by its users, once per outage */ })
    // Give it a moment to connect so the first requests can use it; start anyway if it cannot.
    await new Promise<void>((resolve) => {
      const done = () => { clearTimeout(timer); resolve() }
      const timer = setTimeout(done, 1000)
      redis!.once('ready', done)
    })
    fastify.addHook('onClose', async () => { redis!.disconnect() })
  }
  fastify.decorate('redis', redis)
}, { name: 'redis', dependencies: ['config'] })
