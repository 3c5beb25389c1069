import type { Redis } from 'ioredis'
import type { Clock } from '../clock.js'
import { BoundedLru } from '../limits/lru.js'
import { BREAKER_OPEN_MS } from '../limits/throttle.js'

/**
 * Where the `jti`s of accepted DPoP proofs are remembered (RFC 9449 §11.1), for as long as a proof could still be
 * accepted. `firstUse` is the atomic check-and-record: true the first time a key is seen, false after. It throws
 * ProofReplayFull when it cannot remember one more proof (the caller refuses the request: never accepted unrecorded).
 */
export interface ProofReplay {
  firstUse: (key: string, ttlSeconds: number) => Promise<boolean>
}

/** The replay memory is full of proofs that are still live: a new proof cannot be recorded, so it is not accepted. */
export class ProofReplayFull extends Error {
  constructor (readonly retryAfter: number) {
    super('too many DPoP proofs are being remembered right now; try again shortly')
    this.name = 'ProofReplayFull'
  }
}

/** How many proofs one process remembers; past that, new proofs are refused until the oldest expire (see below). */
export const MEMORY_REPLAY_SIZE = 250_000

/**
 * In this process's memory: one instance, or the fallback while Redis is away.
 *
 * Why full means refused, not "forget the oldest" as the other caches do: evicting would let anyone who can sign
 * proofs (any key will do) push out a recent entry with a flood of fresh proofs and then replay a captured proof
 * within its window (MEMORY_REPLAY_SIZE proofs in PROOF_JTI_LIFETIME_SECONDS is ~1,900 a second, an easy flood). So
 * when every entry is live the new proof is refused (503) until the soonest entry expires: a flood can slow DPoP on
 * this instance for at most one proof lifetime, but never re-open a window. Every entry has the same lifetime, so
 * the soonest expiry is known after one sweep, and the refusals until then cost no sweep each.
 */
export class MemoryProofReplay implements ProofReplay {
  readonly #seen: BoundedLru<string, true>
  readonly #clock: Clock
  /** While the memory is known to be full of live entries: until the soonest one ends (ms). */
  #fullUntil = 0

  constructor (clock: Clock, size = MEMORY_REPLAY_SIZE) {
    this.#clock = clock
    this.#seen = new BoundedLru(size, () => clock.nowMs())
  }

  async firstUse (key: string, ttlSeconds: number): Promise<boolean> {
    return this.firstUseNow(key, ttlSeconds)
  }

  /** `firstUse`, synchronously (atomic in this process). */
  firstUseNow (key: string, ttlSeconds: number): boolean {
    if (this.#seen.has(key)) return false
    if (this.#seen.size >= this.#seen.maxSize) this.#makeRoom()
    this.#seen.set(key, true, ttlSeconds * 1000)
    return true
  }

  #makeRoom (): void {
    const now = this.#clock.nowMs()
    if (now >= this.#fullUntil) {
      this.#seen.sweep()
      if (this.#seen.size < this.#seen.maxSize) return
      this.#fullUntil = this.#seen.soonestExpiry() ?? now + 1000
    }
    throw new ProofReplayFull(Math.max(1, Math.ceil((this.#fullUntil - now) / 1000)))
  }
}

/**
 * Shared by every instance through Redis (§11.1: a proof sent to two instances at once is accepted by one):
 * `SET key 1 NX EX ttl` is the atomic check-and-record. A failure or timeout (REDIS_TIMEOUT_MS on the connection)
 * opens a circuit breaker for BREAKER_OPEN_MS: meanwhile this instance remembers proofs in its own memory
 * (`fallback`), and says so once per outage, as the rate limits do (lib/limits/throttle.ts RedisCounterStore).
 */
export class RedisProofReplay implements ProofReplay {
  #degraded = false
  #openUntil = 0

  constructor (
    private readonly redis: Pick<Redis, 'set'>,
    /** Every key under the deployment's namespace (lib/config.ts deploymentNamespace, which ends with its separator). */
    private readonly prefix: string,
    private readonly fallback: ProofReplay,
    private readonly warn: (message: string, err?: unknown) => void,
    private readonly clock: Clock,
    private readonly openMs = BREAKER_OPEN_MS
  ) {}

  async firstUse (key: string, ttlSeconds: number): Promise<boolean> {
    if (this.#openUntil > this.clock.nowMs()) return this.fallback.firstUse(key, ttlSeconds)
    let stored: string | null
    try {
      stored = await this.redis.set(`${this.prefix}dpop:${key}`, '1', 'EX', ttlSeconds, 'NX')
    } catch (err) {
      this.#openUntil = this.clock.nowMs() + this.openMs
      if (!this.#degraded) {
        this.#degraded = true
        this.warn('redis unavailable: DPoP proofs are remembered by this instance alone (a replay to another instance is not caught)', err)
      }
      return this.fallback.firstUse(key, ttlSeconds)
    }
    if (this.#degraded) {
      this.#degraded = false
      this.warn('redis is back: DPoP proofs are remembered across instances again')
    }
    return stored === 'OK'
  }
}
