import fp from 'fastify-plugin'
import { createHash } from 'node:crypto'
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
  // Instances of one deployment share an ISSUER, so they share counters; other deployments on the same Redis do not.
  const namespace = `gh:${createHash('sha256').update(fastify.config.issuer).digest('base64url').slice(0, 12)}:`
  const throttle = new Throttle(store, namespace)
  fastify.decorate('throttle', throttle)
  fastify.addHook('onClose', async () => throttle.close())
}, { name: 'throttle', dependencies: ['config'] })
