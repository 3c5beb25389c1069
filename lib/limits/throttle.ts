import type { Redis } from 'ioredis'
import { systemClock, type Clock } from '../clock.js'
import { temporarilyUnavailable, type OAuthError } from '../errors.js'
import { BoundedLru, sweepEvery } from './lru.js'

/**
 * Counters, in one process or shared through Redis: fixed windows (`hit`) and atomic steps over several
 * counters (`run` with a CounterScript: a Lua script for Redis and its twin for one process). What is counted
 * and why lives with the rule that counts (lib/oauth/brute-force.ts, lib/oauth/sign-in-reservation.ts).
 */

/**
 * What a counter counts, and so which of one process's bounded stores holds it: anonymous traffic (requests from
 * fresh addresses) fills only its own store and can never push out an account's failures.
 *
 * - `account`: an account's failures and its attempts in flight. Never forgotten while live: when the store is
 *   full of live counters, a step that would add one is refused (503 with Retry-After) instead.
 * - `address`: a client address's sign-in failures (and its (address, account) pairs).
 * - `request`: other rates (upstream sign-in starts, introspection fishing).
 */
export type CounterKind = 'account' | 'address' | 'request'
export const COUNTER_KINDS: readonly CounterKind[] = ['account', 'address', 'request']

export interface Limit {
  key: string
  max: number
  windowSeconds: number
  /** Default `request`. */
  kind?: CounterKind
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
  /** Its name where scripts are looked up by name (a WORKERS primary runs the local twin for its workers). */
  readonly name: string
  /** The kind of each of KEYS, in order (CounterKind). */
  readonly kinds: readonly CounterKind[]
  /** Whether the step may create counters; one that only gives back is never refused for want of room. */
  readonly creates: boolean
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
  hit (key: string, windowSeconds: number, kind?: CounterKind): Promise<{ count: number, resetIn: number }>
  /** Runs `script` atomically over `keys`; says where it ran. */
  run<A, R> (script: CounterScript<A, R>, keys: readonly string[], args: A, options?: RunOptions<R>): Promise<{ result: R, place: CounterPlace }>
  close (): Promise<void>
}

/**
 * What one process holds at most of each kind (LIMIT_COUNTERS_MAX): beyond it the least recently used `address`
 * and `request` counters are forgotten (lib/limits/lru.ts); `account` counters are not (CounterKind).
 */
export const MEMORY_COUNTERS_MAX = 100_000

/** Why a sign-in is refused when the account counters are full of live ones (503, the endpoint's error format). */
export const COUNTERS_FULL = 'too many sign-ins are being tracked right now; try again later'

const FULL = new WeakSet<Error>()

/** Refused for want of room: every account counter is live, and the soonest one ends in `retryAfter` seconds. */
export function countersFull (retryAfter: number): OAuthError {
  const err = temporarilyUnavailable(retryAfter, COUNTERS_FULL)
  FULL.add(err)
  return err
}

/** Whether `err` is countersFull's refusal (told apart from other 503s). */
export const isCountersFull = (err: unknown): boolean => err instanceof Error && FULL.has(err)

/** One process's counters, one bounded store per kind (the embedded default, the WORKERS primary's, and the fallback when Redis is down). */
export class MemoryCounterStore implements CounterStore {
  readonly #stores: Record<CounterKind, BoundedLru<string, number>>
  readonly #byKind: Record<CounterKind, LocalCounters>
  readonly #stopSweeping: () => void
  readonly #clock: Clock
  /** While the account store is known to be full of live counters: until its soonest one ends (ms). */
  #accountsFullUntil = 0
  #warnedAt = -Infinity

  /**
   * `maxEntries`: the cap of each kind's store (one number for all, or per kind). `onFull` hears, at most once a
   * minute, that a sign-in was refused because every account counter is live.
   */
  constructor (clock: Clock = systemClock, maxEntries: number | Partial<Record<CounterKind, number>> = MEMORY_COUNTERS_MAX, private readonly onFull: (message: string) => void = () => {}) {
    this.#clock = clock
    const cap = (kind: CounterKind) => typeof maxEntries === 'number' ? maxEntries : maxEntries[kind] ?? MEMORY_COUNTERS_MAX
    const stores = this.#stores = {
      account: new BoundedLru<string, number>(cap('account'), clock.nowMs),
      address: new BoundedLru<string, number>(cap('address'), clock.nowMs),
      request: new BoundedLru<string, number>(cap('request'), clock.nowMs)
    }
    this.#stopSweeping = sweepEvery(60_000, stores.account, stores.address, stores.request)
    this.#byKind = {
      account: countersIn(() => stores.account, clock),
      address: countersIn(() => stores.address, clock),
      request: countersIn(() => stores.request, clock)
    }
  }

  /** Live and expired-but-unswept counters, every kind together. */
  get size (): number { return this.#stores.account.size + this.#stores.address.size + this.#stores.request.size }

  /** The counters of one kind held now, expired-but-unswept ones included (for tests). */
  sizeOf (kind: CounterKind): number { return this.#stores[kind].size }

  async hit (key: string, windowSeconds: number, kind: CounterKind = 'request') {
    return this.hitNow(key, windowSeconds, kind)
  }

  /** `hit`, synchronously (what a WORKERS primary answers its workers with). */
  hitNow (key: string, windowSeconds: number, kind: CounterKind = 'request'): { count: number, resetIn: number } {
    if (kind === 'account' && !this.#stores.account.has(key)) this.#makeRoom(1)
    const counters = this.#byKind[kind]
    const count = counters.incr(key, windowSeconds * 1000)
    return { count, resetIn: Math.max(1, Math.ceil(counters.msLeft(key)! / 1000)) }
  }

  async run<A, R> (script: CounterScript<A, R>, keys: readonly string[], args: A): Promise<{ result: R, place: CounterPlace }> {
    return { result: this.runNow(script, keys, args), place: 'local' }
  }

  /**
   * `run`, synchronously: atomic in this process. A step that may create counters first makes sure every account
   * counter it could create has room (or throws countersFull), so it is refused before it changes anything.
   */
  runNow<A, R> (script: CounterScript<A, R>, keys: readonly string[], args: A): R {
    const kindOf = new Map<string, CounterKind>(keys.map((key, i) => [key, script.kinds[i] ?? 'request']))
    if (script.creates) {
      const accounts = this.#stores.account
      const missing = keys.filter((key) => kindOf.get(key) === 'account' && !accounts.has(key)).length
      if (missing > 0) this.#makeRoom(missing)
    }
    const counters = countersIn((key) => this.#stores[kindOf.get(key) ?? 'request'], this.#clock)
    return script.local(counters, keys, args)
  }

  async close () { this.#stopSweeping() }

  /**
   * Room for `count` more account counters, or countersFull. Expired counters are swept first (O(size), at most
   * once until the soonest live one ends: a flood of refused sign-ins costs no sweep each).
   */
  #makeRoom (count: number): void {
    const accounts = this.#stores.account
    if (accounts.size + count <= accounts.maxSize) return
    const now = this.#clock.nowMs()
    if (now >= this.#accountsFullUntil) {
      accounts.sweep()
      if (accounts.size + count <= accounts.maxSize) return
      this.#accountsFullUntil = accounts.soonestExpiry() ?? now + 1000
      if (now - this.#warnedAt >= 60_000) {
        this.#warnedAt = now
        this.onFull(`all ${accounts.maxSize} per-account counters (LIMIT_COUNTERS_MAX) are live: sign-ins of other accounts are refused until some expire`)
      }
    }
    throw countersFull(Math.max(1, Math.ceil((this.#accountsFullUntil - now) / 1000)))
  }
}

/** A LocalCounters view over the store each key lives in (`storeOf`). */
function countersIn (storeOf: (key: string) => BoundedLru<string, number>, clock: Clock): LocalCounters {
  const msLeft = (key: string): number | undefined => {
    const at = storeOf(key).expiresAt(key)
    return at === undefined ? undefined : at - clock.nowMs()
  }
  return {
    count: (key) => storeOf(key).peek(key) ?? 0,
    has: (key) => storeOf(key).has(key),
    incr (key, windowMs) {
      const store = storeOf(key)
      const count = (store.get(key) ?? 0) + 1
      store.set(key, count, msLeft(key) ?? windowMs)
      return count
    },
    incrFor (key, ttlMs) {
      const store = storeOf(key)
      const count = (store.get(key) ?? 0) + 1
      store.set(key, count, ttlMs)
      return count
    },
    decr (key) {
      const store = storeOf(key)
      const count = store.get(key)
      if (count === undefined) return 0
      if (count <= 1) { store.delete(key); return 0 }
      store.set(key, count - 1, msLeft(key))
      return count - 1
    },
    delete: (key) => { storeOf(key).delete(key) },
    msLeft
  }
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
    /** This process's counters, or with WORKERS the primary's (lib/limits/cluster-counters.ts). */
    private readonly fallback: CounterStore,
    private readonly warn: (message: string, err?: unknown) => void,
    private readonly clock: Clock = systemClock,
    private readonly openMs = BREAKER_OPEN_MS
  ) {}

  async hit (key: string, windowSeconds: number, kind?: CounterKind) {
    return this.#try(async () => {
      const results = await this.redis.multi().incr(key).expire(key, windowSeconds, 'NX').pttl(key).exec()
      if (!results) throw new Error('redis transaction aborted')
      for (const [err] of results) if (err) throw err
      const count = Number(results[0]?.[1])
      const pttl = Number(results[2]?.[1])
      return { count, resetIn: Math.max(1, Math.ceil(pttl / 1000)) }
    }, () => this.fallback.hit(key, windowSeconds, kind))
  }

  async run<A, R> (script: CounterScript<A, R>, keys: readonly string[], args: A, options: RunOptions<R> = {}): Promise<{ result: R, place: CounterPlace }> {
    if (options.place === 'local') return this.fallback.run(script, keys, args, { unavailable: options.unavailable })
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
    const states = await Promise.all(limits.map((l) => this.store.hit(this.namespace + l.key, l.windowSeconds, l.kind)))
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
