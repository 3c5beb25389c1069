import fp from 'fastify-plugin'
import { deploymentNamespace } from '../lib/config.js'
import { MemoryCounterStore, RedisCounterStore, Throttle, type CounterStore } from '../lib/limits/throttle.js'

declare module 'fastify' {
  interface FastifyInstance {
    throttle: Throttle
  }
}

/** Failure counters for brute-force protection: in memory, or shared through Redis when REDIS_URL is set. */
export default fp(async (fastify) => {
  const local = new MemoryCounterStore(fastify.clock, fastify.config.limitCountersMax, (message) => fastify.log.warn(message))
  const { redis } = fastify
  const store: CounterStore = redis
    ? new RedisCounterStore(redis, local, (message, err) => fastify.log.warn({ err }, message), fastify.clock)
    : local
  // Every key under REDIS_PREFIX (by default derived from ISSUER): instances of one deployment share counters.
  const throttle = new Throttle(store, deploymentNamespace(fastify.config))
  fastify.decorate('throttle', throttle)
  fastify.addHook('onClose', async () => throttle.close())
}, { name: 'throttle', dependencies: ['config', 'clock', 'redis'] })
