import type { Redis } from 'ioredis'
import { systemClock, type Clock } from '../clock.js'
import { BoundedLru, sweepEvery } from './lru.js'

/**
 * Counters, in one process or shared through Redis: fixed windows (`hit`) and atomic steps over several
 * counters (`run` with a CounterScript: a Lua script for Redis and its twin for one process). What is counted
 * and why lives with the rule that counts (lib/oauth/brute-force.ts, lib/oauth/sign-in-reservation.ts).
 */

export interface Limit {
  key: string
  max: number
  windowSeconds: number
}

/** Where a step ran: in the counters every instance shares (Redis), or in this process's own. */
export type CounterPlace = 'shared' | 'local'

/** One process's counters, as a CounterScript's local twin sees them (every call synchronous). */
export interface LocalCounters {
  /** The live count under `key` (0 when there is none), leaving its recency alone (GET). */
  count (key: string): number
  has (key: string): boolean
  /** INCR, with the window starting at the first hit (EXPIRE NX); returns the new count. */
  incr (key: string, windowMs: number): number
  /** INCR, then PEXPIRE `ttlMs`: the count lives `ttlMs` from now, whenever it started. */
  incrFor (key: string, ttlMs: number): number
  /** DECR of a live counter, never below zero and never creating one (at zero it is deleted); returns what is left. */
  decr (key: string): number
  delete (key: string): void
  /** Milliseconds until `key` resets (PTTL), or undefined when there is no such counter. */
  msLeft (key: string): number | undefined
}

/**
 * One atomic step over several counters, written twice: a Lua script that Redis runs over KEYS (the counters) and
 * ARGV (`argv(args)`), and its twin over one process's counters, synchronous so that it is atomic there too.
 * The two must give the same answers (test/lib/oauth/sign-in-reservation.test.ts holds the sign-in pair to that).
 */
export interface CounterScript<A, R> {
  readonly lua: string
  argv (args: A): Array<string | number>
  /** The script's reply, as the twin's answer. */
  decode (reply: unknown): R
  local (counters: LocalCounters, keys: readonly string[], args: A): R
}

export interface RunOptions<R> {
  /** `local`: in this process's counters (to settle what was reserved there); by default where the store keeps them. */
  place?: CounterPlace
  /** The answer when the shared counters cannot be reached; by default the step runs in this process's counters. */
  unavailable?: () => R
}

/** A counter store: in memory, or Redis with this process's counters as its fallback. */
export interface CounterStore {
  /** Adds one under `key`; returns the count in the window and the seconds until the window resets. */
  hit (key: string, windowSeconds: number): Promise<{ count: number, resetIn: number }>
  /** Runs `script` atomically over `keys`; says where it ran. */
  run<A, R> (script: CounterScript<A, R>, keys: readonly string[], args: A, options?: RunOptions<R>): Promise<{ result: R, place: CounterPlace }>
  close (): Promise<void>
}

/** What one process holds at most: beyond it the least recently used counters are forgotten (lib/limits/lru.ts). */
export const MEMORY_COUNTERS_MAX = 100_000

/** One process's counters (the embedded default, and the fallback when Redis is down). */
export class MemoryCounterStore implements CounterStore {
  readonly #windows: BoundedLru<string, number>
  readonly #counters: LocalCounters
  readonly #stopSweeping: () => void

  constructor (clock: Clock = systemClock, maxEntries = MEMORY_COUNTERS_MAX) {
    const windows = this.#windows = new BoundedLru(maxEntries, clock.nowMs)
    this.#stopSweeping = sweepEvery(60_000, windows)
    const msLeft = (key: string): number | undefined => {
      const at = windows.expiresAt(key)
      return at === undefined ? undefined : at - clock.nowMs()
    }
    this.#counters = {
      count: (key) => windows.peek(key) ?? 0,
      has: (key) => windows.has(key),
      incr (key, windowMs) {
        const count = (windows.get(key) ?? 0) + 1
        windows.set(key, count, msLeft(key) ?? windowMs)
        return count
      },
      incrFor (key, ttlMs) {
        const count = (windows.get(key) ?? 0) + 1
        windows.set(key, count, ttlMs)
        return count
      },
      decr (key) {
        const count = windows.get(key)
        if (count === undefined) return 0
        if (count <= 1) { windows.delete(key); return 0 }
        windows.set(key, count - 1, msLeft(key))
        return count - 1
      },
      delete: (key) => { windows.delete(key) },
      msLeft
    }
  }

  get size (): number { return this.#windows.size }

  async hit (key: string, windowSeconds: number) {
    const count = this.#counters.incr(key, windowSeconds * 1000)
    return { count, resetIn: Math.max(1, Math.ceil(this.#counters.msLeft(key)! / 1000)) }
  }

  async run<A, R> (script: CounterScript<A, R>, keys: readonly string[], args: A): Promise<{ result: R, place: CounterPlace }> {
    return { result: script.local(this.#counters, keys, args), place: 'local' }
  }

  async close () { this.#stopSweeping() }
}

/** A circuit breaker's state: after a failure (or a timeout), Redis is not asked again for `openMs`. */
export const BREAKER_OPEN_MS = 5_000

/**
 * Counters shared by every instance through Redis (fixed windows: INCR, then EXPIRE NX; atomic steps as Lua
 * scripts). Every command has a short timeout (REDIS_TIMEOUT_MS, set on the connection by the redis plugin); a
 * failure or timeout opens a circuit breaker: for BREAKER_OPEN_MS each instance uses its own counters at once,
 * without asking Redis, then tries Redis again. Logged once per outage.
 */
export class RedisCounterStore implements CounterStore {
  #degraded = false
  #openUntil = 0

  constructor (
    private readonly redis: Redis,
    private readonly fallback: MemoryCounterStore,
    private readonly warn: (message: string, err?: unknown) => void,
    private readonly clock: Clock = systemClock,
    private readonly openMs = BREAKER_OPEN_MS
  ) {}

  async hit (key: string, windowSeconds: number) {
    return this.#try(async () => {
      const results = await this.redis.multi().incr(key).expire(key, windowSeconds, 'NX').pttl(key).exec()
      if (!results) throw new Error('redis transaction aborted')
      for (const [err] of results) if (err) throw err
      const count = Number(results[0]?.[1])
      const pttl = Number(results[2]?.[1])
      return { count, resetIn: Math.max(1, Math.ceil(pttl / 1000)) }
    }, () => this.fallback.hit(key, windowSeconds))
  }

  async run<A, R> (script: CounterScript<A, R>, keys: readonly string[], args: A, options: RunOptions<R> = {}): Promise<{ result: R, place: CounterPlace }> {
    if (options.place === 'local') return this.fallback.run(script, keys, args)
    let place: CounterPlace = 'shared'
    const result = await this.#try(
      async () => script.decode(await this.redis.eval(script.lua, keys.length, ...keys, ...script.argv(args))),
      async () => {
        place = 'local'
        return options.unavailable ? options.unavailable() : (await this.fallback.run(script, keys, args)).result
      })
    return { result, place }
  }

  /** The Redis connection belongs to the redis plugin; only the fallback is closed here. */
  async close () {
    await this.fallback.close()
  }

  async #try<T> (shared: () => Promise<T>, local: () => Promise<T>): Promise<T> {
    if (this.#openUntil > this.clock.nowMs()) return local()
    try {
      const result = await shared()
      if (this.#degraded) {
        this.#degraded = false
        this.warn('redis is back: rate limits are shared again')
      }
      return result
    } catch (err) {
      this.#openUntil = this.clock.nowMs() + this.openMs
      if (!this.#degraded) {
        this.#degraded = true
        this.warn('redis unavailable: falling back to this instance\'s own rate limits', err)
      }
      return local()
    }
  }
}

/** Counters under one deployment's namespace: `take` for rate limits, `run` for atomic steps (CounterScript). */
export class Throttle {
  /** `namespace` prefixes every key: deployments that share one Redis stay apart (REDIS_PREFIX, lib/config.ts). */
  constructor (private readonly store: CounterStore, private readonly namespace = '') {}

  /**
   * Counts one request against every limit and says whether this one went over any of them: the seconds to wait,
   * else undefined. Each counter's increment is atomic (INCR) and the answer is decided on the count it returned,
   * so requests arriving at once count one by one and exactly `max` get through per window, on every instance.
   */
  async take (limits: Limit[]): Promise<number | undefined> {
    const states = await Promise.all(limits.map((l) => this.store.hit(this.namespace + l.key, l.windowSeconds)))
    let wait: number | undefined
    limits.forEach((limit, i) => {
      const state = states[i]
      if (state && state.count > limit.max) wait = Math.max(wait ?? 0, state.resetIn, 1)
    })
    return wait
  }

  /** Runs an atomic step over these counters (CounterStore.run), under the namespace. */
  run<A, R> (script: CounterScript<A, R>, keys: readonly string[], args: A, options?: RunOptions<R>): Promise<{ result: R, place: CounterPlace }> {
    return this.store.run(script, keys.map((key) => this.namespace + key), args, options)
  }

  close (): Promise<void> { return this.store.close() }
}
