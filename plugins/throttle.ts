import fp from 'fastify-plugin'
import cluster from 'node:cluster'
import { deploymentNamespace } from '../lib/config.js'
import { ClusterCounterStore } from '../lib/limits/cluster-counters.js'
import { MemoryCounterStore, RedisCounterStore, Throttle, type CounterStore } from '../lib/limits/throttle.js'

declare module 'fastify' {
  interface FastifyInstance {
    throttle: Throttle
  }
}

/**
 * Failure counters for brute-force protection: in memory, or shared through Redis when REDIS_URL is set. In a
 * WORKERS process, "in memory" is the primary's memory, which every worker shares (lib/limits/cluster-counters.ts):
 * limits hold per machine, not per process.
 */
export default fp(async (fastify) => {
  const local: CounterStore = cluster.isWorker
    ? new ClusterCounterStore()
    : new MemoryCounterStore(fastify.clock, fastify.config.limitCountersMax, (message) => fastify.log.warn(message))
  const { redis } = fastify
  const store: CounterStore = redis
    ? new RedisCounterStore(redis, local, (message, err) => fastify.log.warn({ err }, message), fastify.clock)
    : local
  // Every key under REDIS_PREFIX (by default derived from ISSUER): instances of one deployment share counters.
  const throttle = new Throttle(store, deploymentNamespace(fastify.config))
  fastify.decorate('throttle', throttle)
  fastify.addHook('onClose', async () => throttle.close())
}, { name: 'throttle', dependencies: ['config', 'clock', 'redis'] })
