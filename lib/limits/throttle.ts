import type { Redis } from 'ioredis'
import { systemClock, type Clock } from '../clock.js'
import { BoundedLru, sweepEvery } from './lru.js'

/** A failure counter: how many failures under `key` in the current fixed window, and when it resets. */
export interface CounterStore {
  /** Adds one failure; returns the count in the window and the seconds until the window resets. */
  hit (key: string, windowSeconds: number): Promise<{ count: number, resetIn: number }>
  peek (key: string): Promise<{ count: number, resetIn: number }>
  reset (key: string): Promise<void>
  /** Atomically checks the sign-in limits and, when under them, counts the attempt (before any hash). */
  reserve (keys: SignInKeys, limits: SignInLimits): Promise<Reservation>
  /** After the hash: keeps a failure counted, gives back a success's or a release's reservation (see SETTLE_SCRIPT). */
  settle (keys: SignInKeys, outcome: SettleOutcome, reservation?: Reservation): Promise<void>
  close (): Promise<void>
}

export interface Limit {
  key: string
  max: number
  windowSeconds: number
}

/**
 * The counters of one password sign-in attempt (lib/oauth/brute-force.ts names them): the account's
 * failures, the address's failed accounts (each (address, account) pair counts once, through `pair`),
 * and the account's attempts still being verified (`inFlight`).
 */
export interface SignInKeys {
  account: string
  address: string
  pair: string
  inFlight: string
}

export interface SignInLimits {
  account: { max: number, windowSeconds: number }
  address: { max: number, windowSeconds: number }
}

/**
 * Admitted (its counters were incremented before any hash), or refused for `retryAfter` seconds. `local`:
 * a RedisCounterStore reserved in its fallback (Redis unavailable), and settles there.
 */
export type Reservation = { ok: true, local?: boolean } | { ok: false, retryAfter: number }

/** What became of a reserved attempt: a wrong guess, a right one, or nothing verified at all. */
export type SettleOutcome = 'failure' | 'success' | 'release'

/** How long an in-flight mark outlives a process that died while hashing. */
export const IN_FLIGHT_TTL_SECONDS = 120

/**
 * Sign-in reservation, one atomic step (a Lua script in Redis, synchronous code in memory):
 * refused when the account has reached its limit, or when the pair is new and the address has reached its
 * limit; otherwise the account counter, the pair (and, for a new pair, the address counter) and the
 * in-flight count are incremented before anything is hashed. So N parallel guesses hash at most the limit.
 */
const RESERVE_SCRIPT = `
local function wait (key)
  local t = redis.call('PTTL', key)
  if t < 1 then t = 1000 end
  return t
end
local account = tonumber(redis.call('GET', KEYS[1]) or '0')
if account >= tonumber(ARGV[1]) then return {0, wait(KEYS[1])} end
if redis.call('EXISTS', KEYS[3]) == 0 then
  local address = tonumber(redis.call('GET', KEYS[2]) or '0')
  if address >= tonumber(ARGV[3]) then return {0, wait(KEYS[2])} end
  if redis.call('INCR', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[4]) end
end
if redis.call('INCR', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
redis.call('INCR', KEYS[3])
local left = redis.call('PTTL', KEYS[2])
if left < 1 then left = tonumber(ARGV[4]) end
redis.call('PEXPIRE', KEYS[3], left)
redis.call('INCR', KEYS[4])
redis.call('PEXPIRE', KEYS[4], ARGV[5])
return {1, 0}
`

/**
 * Settles a reservation. A failure keeps what it reserved (it is the failure count). A success gives back
 * its own reservation: the pair's (and the address's, when that was the pair's last attempt), and the
 * account's, or clears the account's failures when no other attempt on it is in flight. So a success never
 * resets an address, nor an account while other guesses on it are being verified. A release (nothing was
 * verified: the store or the hash queue refused) gives back its own reservation and clears nothing.
 */
const SETTLE_SCRIPT = `
local inflight = redis.call('DECR', KEYS[4])
if inflight <= 0 then redis.call('DEL', KEYS[4]) end
if ARGV[1] == 'failure' then return 0 end
if ARGV[1] == 'success' and inflight <= 0 then
  redis.call('DEL', KEYS[1])
elseif redis.call('EXISTS', KEYS[1]) == 1 and redis.call('DECR', KEYS[1]) <= 0 then
  redis.call('DEL', KEYS[1])
end
if redis.call('EXISTS', KEYS[3]) == 1 and redis.call('DECR', KEYS[3]) <= 0 then
  redis.call('DEL', KEYS[3])
  if redis.call('EXISTS', KEYS[2]) == 1 and redis.call('DECR', KEYS[2]) <= 0 then redis.call('DEL', KEYS[2]) end
end
return 1
`

/** What one process holds at most: beyond it the least recently used counters are forgotten (lib/limits/lru.ts). */
export const MEMORY_COUNTERS_MAX = 100_000

/** One process's counters (the embedded default, and the fallback when Redis is down). */
export class MemoryCounterStore implements CounterStore {
  readonly #windows: BoundedLru<string, number>
  readonly #stopSweeping: () => void

  constructor (private readonly clock: Clock = systemClock, maxEntries = MEMORY_COUNTERS_MAX) {
    this.#windows = new BoundedLru(maxEntries, clock.nowMs)
    this.#stopSweeping = sweepEvery(60_000, this.#windows)
  }

  get size (): number { return this.#windows.size }

  #resetIn (key: string): number {
    const at = this.#windows.expiresAt(key)
    return at === undefined ? 0 : Math.max(1, Math.ceil((at - this.clock.nowMs()) / 1000))
  }

  /** INCR, with the window starting at the first hit (EXPIRE NX). */
  #incr (key: string, windowMs: number): number {
    const count = (this.#windows.get(key) ?? 0) + 1
    const at = this.#windows.expiresAt(key)
    this.#windows.set(key, count, at === undefined ? windowMs : at - this.clock.nowMs())
    return count
  }

  /** DECR of a live counter (never below zero, never creating one); returns what is left. */
  #decr (key: string): number {
    const count = this.#windows.get(key)
    if (count === undefined) return 0
    if (count <= 1) { this.#windows.delete(key); return 0 }
    this.#windows.set(key, count - 1, this.#windows.expiresAt(key)! - this.clock.nowMs())
    return count - 1
  }

  async hit (key: string, windowSeconds: number) {
    const count = this.#incr(key, windowSeconds * 1000)
    return { count, resetIn: this.#resetIn(key) }
  }

  async peek (key: string) {
    return { count: this.#windows.peek(key) ?? 0, resetIn: this.#resetIn(key) }
  }

  async reset (key: string) { this.#windows.delete(key) }

  async reserve (keys: SignInKeys, limits: SignInLimits): Promise<Reservation> {
    if ((this.#windows.peek(keys.account) ?? 0) >= limits.account.max) return { ok: false, retryAfter: this.#resetIn(keys.account) }
    if (!this.#windows.has(keys.pair)) {
      if ((this.#windows.peek(keys.address) ?? 0) >= limits.address.max) return { ok: false, retryAfter: this.#resetIn(keys.address) }
      this.#incr(keys.address, limits.address.windowSeconds * 1000)
    }
    this.#incr(keys.account, limits.account.windowSeconds * 1000)
    const addressLeft = (this.#windows.expiresAt(keys.address) ?? this.clock.nowMs() + limits.address.windowSeconds * 1000) - this.clock.nowMs()
    this.#windows.set(keys.pair, (this.#windows.get(keys.pair) ?? 0) + 1, addressLeft)
    this.#windows.set(keys.inFlight, (this.#windows.get(keys.inFlight) ?? 0) + 1, IN_FLIGHT_TTL_SECONDS * 1000)
    return { ok: true }
  }

  async settle (keys: SignInKeys, outcome: SettleOutcome): Promise<void> {
    const inFlight = this.#decr(keys.inFlight)
    if (outcome === 'failure') return
    if (outcome === 'success' && inFlight === 0) this.#windows.delete(keys.account)
    else this.#decr(keys.account)
    if (this.#windows.has(keys.pair) && this.#decr(keys.pair) === 0) this.#decr(keys.address)
  }

  async close () { this.#stopSweeping() }
}

/** A circuit breaker's state: after a failure (or a timeout), Redis is not asked again for `openMs`. */
export const BREAKER_OPEN_MS = 5_000

/**
 * Counters shared by every instance through Redis (fixed windows: INCR, then EXPIRE NX; sign-in
 * reservations in one Lua script). Every command has a short timeout (REDIS_TIMEOUT_MS, set on the
 * connection by the redis plugin); a failure or timeout opens a circuit breaker: for BREAKER_OPEN_MS each
 * instance uses its own counters at once, without asking Redis, then tries Redis again. Logged once per outage.
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

  async peek (key: string) {
    return this.#try(async () => {
      const [count, pttl] = await Promise.all([this.redis.get(key), this.redis.pttl(key)])
      return { count: Number(count ?? 0), resetIn: pttl > 0 ? Math.ceil(pttl / 1000) : 0 }
    }, () => this.fallback.peek(key))
  }

  async reset (key: string) {
    await this.#try(async () => { await this.redis.del(key) }, () => this.fallback.reset(key))
  }

  /** Reserved in Redis, or (Redis unavailable) locally; `settle` goes where the reservation went. */
  async reserve (keys: SignInKeys, limits: SignInLimits): Promise<Reservation> {
    let local = false
    const reservation = await this.#try(async () => {
      const [ok, value] = await this.redis.eval(RESERVE_SCRIPT, 4, keys.account, keys.address, keys.pair, keys.inFlight,
        limits.account.max, limits.account.windowSeconds * 1000, limits.address.max, limits.address.windowSeconds * 1000,
        IN_FLIGHT_TTL_SECONDS * 1000) as [number, number]
      return ok === 1 ? { ok: true as const } : { ok: false as const, retryAfter: Math.max(1, Math.ceil(value / 1000)) }
    }, async () => { local = true; return this.fallback.reserve(keys, limits) })
    return reservation.ok ? { ok: true, local } : reservation
  }

  async settle (keys: SignInKeys, outcome: SettleOutcome, reservation?: Reservation): Promise<void> {
    if (reservation?.ok === true && reservation.local === true) return this.fallback.settle(keys, outcome)
    await this.#try(async () => {
      await this.redis.eval(SETTLE_SCRIPT, 4, keys.account, keys.address, keys.pair, keys.inFlight, outcome)
    }, async () => { /* Redis went away meanwhile: its counters expire by themselves */ })
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

/**
 * Failure-based throttling: `check` before doing anything costly (a password hash), `fail` after a
 * failure, `succeed` after a success. Over any limit, the caller must wait `retryAfter` seconds.
 */
export class Throttle {
  /** `namespace` prefixes every key: deployments that share one Redis stay apart (REDIS_PREFIX, lib/config.ts). */
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

  async fail (limits: Limit[]): Promise<void> {
    await Promise.all(limits.map((l) => this.store.hit(this.namespace + l.key, l.windowSeconds)))
  }

  async succeed (limits: Limit[]): Promise<void> {
    await Promise.all(limits.map((l) => this.store.reset(this.namespace + l.key)))
  }

  /**
   * Reserves one password sign-in attempt before it is verified (CounterStore.reserve): refused with the
   * seconds to wait, or admitted with the `settle` to call once the hash has answered (exactly once).
   */
  async reserve (keys: SignInKeys, limits: SignInLimits): Promise<{ retryAfter: number } | { settle: (outcome: SettleOutcome) => Promise<void> }> {
    const named: SignInKeys = {
      account: this.namespace + keys.account,
      address: this.namespace + keys.address,
      pair: this.namespace + keys.pair,
      inFlight: this.namespace + keys.inFlight
    }
    const reservation = await this.store.reserve(named, limits)
    if (!reservation.ok) return { retryAfter: Math.max(1, reservation.retryAfter) }
    return { settle: (outcome) => this.store.settle(named, outcome, reservation) }
  }

  close (): Promise<void> { return this.store.close() }
}
