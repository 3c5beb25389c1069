import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Invalidation, InvalidationBus } from './cached.js'

/**
 * Cache invalidations between instances over Redis pub/sub: a revocation, a disabled user or a deleted
 * client made on one instance reaches the others' caches in milliseconds. Losing a message (Redis down)
 * only delays it to the caches' own expiry (1 s), so Redis stays optional.
 */
export function redisInvalidationBus (redis: Redis, channel: string, warn: (message: string, err: unknown) => void): InvalidationBus & { close (): void } {
  const self = randomUUID()
  // A subscriber must queue its SUBSCRIBE until connected (and re-subscribes by itself after a reconnect).
  const subscriber = redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined })
  const listeners: Array<(message: Invalidation) => void> = []
  subscriber.on('error', () => { /* the publisher side reports outages */ })
  subscriber.subscribe(channel).catch((err: unknown) => warn('subscribing to cache invalidations failed', err))
  subscriber.on('message', (_channel: string, text: string) => {
    try {
      const { from, message } = JSON.parse(text) as { from: string, message: Invalidation }
      if (from !== self) for (const listener of listeners) listener(message)
    } catch { /* not ours */ }
  })
  return {
    publish (message) {
      redis.publish(channel, JSON.stringify({ from: self, message })).catch(() => { /* best effort */ })
    },
    subscribe (listener) { listeners.push(listener) },
    close () { subscriber.disconnect() }
  }
}
