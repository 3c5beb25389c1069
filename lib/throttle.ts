import type { Redis } from 'ioredis'
import { systemClock, type Clock } from './clock.js'

/** A failure counter: how many failures under `key` in the current fixed window, and when it resets. */
export interface CounterStore {
  /** Adds one failure; returns the count in the window and the seconds until the window resets. */
  hit (key: string, windowSeconds: number): Promise<{ count: number, resetIn: number }>
  peek (key: string): Promise<{ count: number, resetIn: number }>
  reset (key: string): Promise<void>
  close (): Promise<void>
}

export interface Limit {
  key: string
  max: number
  windowSeconds: number
}

/** One process's counters (the embedded default, and the fallback when Redis is down). */
export class MemoryCounterStore implements CounterStore {
  readonly #windows = new Map<string, { count: number, resetAt: number }>()
  readonly #sweep: NodeJS.Timeout

  constructor (private readonly clock: Clock = systemClock) {
    this.#sweep = setInterval(() => {
      const t = this.clock.nowMs()
      for (const [key, w] of this.#windows) if (w.resetAt <= t) this.#windows.delete(key)
    }, 60_000).unref()
  }

  async hit (key: string, windowSeconds: number) {
    const t = this.clock.nowMs()
    let w = this.#windows.get(key)
    if (!w || w.resetAt <= t) this.#windows.set(key, w = { count: 0, resetAt: t + windowSeconds * 1000 })
    w.count++
    return { count: w.count, resetIn: Math.ceil((w.resetAt - t) / 1000) }
  }

  async peek (key: string) {
    const t = this.clock.nowMs()
    const w = this.#windows.get(key)
    if (!w || w.resetAt <= t) return { count: 0, resetIn: 0 }
    return { count: w.count, resetIn: Math.ceil((w.resetAt - t) / 1000) }
  }

  async reset (key: string) { this.#windows.delete(key) }
  async close () { clearInterval(this.#sweep) }
}

/**
 * Counters shared by every instance through Redis (fixed windows: INCR, then EXPIRE NX). If Redis fails,
 * each instance falls back to its own counters and says so in the log, until Redis answers again.
 */
export class RedisCounterStore implements CounterStore {
  #degraded = false

  constructor (
    private readonly redis: Redis,
    private readonly fallback: CounterStore,
    private readonly warn: (message: string, err?: unknown) => void
  ) {}

  async hit (key: string, windowSeconds: number) {
    return this.#try(async () => {
      const results = await this.redis.multi().incr(key).expire(key, windowSeconds, 'NX').pttl(key).exec()
      if (!results) throw new Error('redis transaction aborted')
      const count = Number(results[0]?.[1])
      const pttl = Number(results[2]?.[1])
      return { count, resetIn: Math.max(1, Math.ceil(pttl / 1000)) }
    }, () => this.fallback.hit(key, windowSeconds))
  }

  async peek (key: string) {
    return this.#try(async () => {
      const [count, pttl] = await Promise.all([this.redis.get(key), this.redis.pttl(key)])
      return { count: Number(count ?? 0), resetIn: pttl > 0 ? Math.ceil(pttl / 1000) : 0 }
    }, () => this.fallback.peek(key))
  }

  async reset (key: string) {
    await this.#try(async () => { await this.redis.del(key) }, () => this.fallback.reset(key))
  }

  /** The Redis connection belongs to the redis plugin; only the fallback is closed here. */
  async close () {
    await this.fallback.close()
  }

  async #try<T> (shared: () => Promise<T>, local: () => Promise<T>): Promise<T> {
    try {
      const result = await shared()
      if (this.#degraded) {
        this.#degraded = false
        this.warn('redis is back: rate limits are shared again')
      }
      return result
    } catch (err) {
      if (!this.#degraded) {
        this.#degraded = true
        this.warn('redis unavailable: falling back to this instance\'s own rate limits', err)
      }
      return local()
    }
  }
}

/**
 * Failure-based throttling: `check` before doing anything costly (a password hash), `fail` after a
 * failure, `succeed` after a success. Over any limit, the caller must wait `retryAfter` seconds.
 */
export class Throttle {
  /** `namespace` keeps deployments that share one Redis apart (it is derived from the issuer). */
  constructor (private readonly store: CounterStore, private readonly namespace = '') {}

  /** Seconds to wait when any limit is already reached, else undefined. */
  async check (limits: Limit[]): Promise<number | undefined> {
    const states = await Promise.all(limits.map((l) => this.store.peek(this.namespace + l.key)))
    let wait: number | undefined
    limits.forEach((limit, i) => {
      const state = states[i]
      if (state && state.count >= limit.max) wait = Math.max(wait ?? 0, state.resetIn, 1)
    })
    return wait
  }

  async fail (limits: Limit[]): Promise<void> {
    await Promise.all(limits.map((l) => this.store.hit(this.namespace + l.key, l.windowSeconds)))
  }

  async succeed (limits: Limit[]): Promise<void> {
    await Promise.all(limits.map((l) => this.store.reset(this.namespace + l.key)))
  }

  close (): Promise<void> { return this.store.close() }
}
