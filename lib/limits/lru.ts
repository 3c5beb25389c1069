/**
 * The one bounded cache every in-memory map keyed by request data goes through (caches, counters,
 * log throttles): at most `maxSize` entries, least recently used evicted first, and each entry with an
 * expiry after which it is never returned and is dropped by `sweep()` (or when touched). So no request,
 * however many distinct ids, usernames, addresses or tokens it carries, can grow memory past the cap.
 *
 * Time comes from the caller (`now`, the injected clock's `nowMs`), never from Date.now here.
 */
export class BoundedLru<K, V> {
  readonly #entries = new Map<K, { value: V, expiresAt: number }>()

  constructor (readonly maxSize: number, private readonly now: () => number) {
    if (!(maxSize >= 1)) throw new RangeError('BoundedLru: maxSize must be at least 1')
  }

  get size (): number { return this.#entries.size }

  /** The live value under `key` (and marks it recently used), or undefined. */
  get (key: K): V | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= this.now()) {
      this.#entries.delete(key)
      return undefined
    }
    this.#entries.delete(key)
    this.#entries.set(key, entry)
    return entry.value
  }

  /** The live value under `key`, without changing its recency. */
  peek (key: K): V | undefined {
    const entry = this.#entries.get(key)
    return entry !== undefined && entry.expiresAt > this.now() ? entry.value : undefined
  }

  has (key: K): boolean { return this.peek(key) !== undefined }

  /** Stores `value` for `ttlMs` (default: until evicted), evicting the least recently used beyond the cap. */
  set (key: K, value: V, ttlMs = Infinity): void {
    this.#entries.delete(key)
    this.#entries.set(key, { value, expiresAt: this.now() + ttlMs })
    while (this.#entries.size > this.maxSize) {
      const oldest = this.#entries.keys().next()
      if (oldest.done === true) break
      this.#entries.delete(oldest.value)
    }
  }

  /** When `key`'s entry expires (ms), or undefined when there is none. */
  expiresAt (key: K): number | undefined {
    const entry = this.#entries.get(key)
    return entry !== undefined && entry.expiresAt > this.now() ? entry.expiresAt : undefined
  }

  delete (key: K): boolean { return this.#entries.delete(key) }

  clear (): void { this.#entries.clear() }

  /** Drops every expired entry (O(size), and size is bounded). */
  sweep (): void {
    const t = this.now()
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= t) this.#entries.delete(key)
  }

  /** The first instant (ms) a live entry expires, or undefined when none will (O(size), and size is bounded). */
  soonestExpiry (): number | undefined {
    const t = this.now()
    let soonest: number | undefined
    for (const entry of this.#entries.values()) if (entry.expiresAt > t && entry.expiresAt < (soonest ?? Infinity)) soonest = entry.expiresAt
    return soonest
  }

  /** Live entries, least recently used first. */
  * entries (): IterableIterator<[K, V]> {
    const t = this.now()
    for (const [key, entry] of this.#entries) if (entry.expiresAt > t) yield [key, entry.value]
  }
}

/** Calls `sweep` every `intervalMs` on a timer that never keeps the process alive; returns its stopper. */
export function sweepEvery (intervalMs: number, ...caches: Array<{ sweep (): void }>): () => void {
  const timer = setInterval(() => { for (const cache of caches) cache.sweep() }, intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}
