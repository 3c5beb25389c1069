import type { Clock } from '../clock.js'
import { BoundedLru } from '../limits/lru.js'

/**
 * Where the `jti`s of accepted DPoP proofs are remembered (RFC 9449 §11.1), for as long as a proof could still be
 * accepted. `firstUse` is the atomic check-and-record: true the first time a key is seen, false after.
 */
export interface ProofReplay {
  firstUse: (key: string, ttlSeconds: number) => Promise<boolean>
}

/** How many proofs one process remembers; past that the oldest are forgotten first (they are also the first to expire). */
export const MEMORY_REPLAY_SIZE = 100_000

/** In this process's memory: one instance, or the fallback while Redis is away. */
export class MemoryProofReplay implements ProofReplay {
  readonly #seen: BoundedLru<string, true>

  constructor (clock: Clock, size = MEMORY_REPLAY_SIZE) {
    this.#seen = new BoundedLru(size, () => clock.now() * 1000)
  }

  async firstUse (key: string, ttlSeconds: number): Promise<boolean> {
    if (this.#seen.has(key)) return false
    this.#seen.set(key, true, ttlSeconds * 1000)
    return true
  }
}
