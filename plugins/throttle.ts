import fp from 'fastify-plugin'
import { MemoryCounterStore, RedisCounterStore, Throttle, type CounterStore } from '../lib/throttle.js'

declare module 'fastify' {
  interface FastifyInstance {
    throttle: Throttle
  }
}

/** Failure counters for brute-force protection: in memory, or shared through Redis when REDIS_URL is set. */
export default fp(async (fastify) => {
  const local = new MemoryCounterStore()
  let store: CounterStore = local
  if (fastify.config.redisUrl) {
    const { Redis } = await import('ioredis')
    // Fail fast: a throttling decision must never hang a sign-in; the fallback answers instead.
    const redis = new Redis(fastify.config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 1000, commandTimeout: 500, lazyConnect: false })
    redis.on('error', () => { /* reported once per outage by RedisCounterStore */ })
    store = new RedisCounterStore(redis, local, (message, err) => fastify.log.warn({ err }, message))
  }
  const throttle = new Throttle(store)
  fastify.decorate('throttle', throttle)
  fastify.addHook('onClose', async () => throttle.close())
}, { name: 'throttle', dependencies: ['config'] })
