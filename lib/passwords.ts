import { hash, parseOptions } from '@node-rs/argon2'
import { randomBytes } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Config } from './config.js'
import { identifyHash, verifyHash } from './password-formats.js'

/** argon2id cost parameters (OWASP's minimum is m=19456 KiB, t=2, p=1). */
export interface Argon2Params { memoryCost: number, timeCost: number, parallelism: number }

/** The configured cost (ARGON2_* settings). */
export function argon2Params (config: Pick<Config, 'argon2MemoryKib' | 'argon2TimeCost' | 'argon2Parallelism'>): Argon2Params {
  return { memoryCost: config.argon2MemoryKib, timeCost: config.argon2TimeCost, parallelism: config.argon2Parallelism }
}

const ARGON2ID = 2 // Algorithm.Argon2id (a const enum in the package's typings)

export interface PasswordHasher {
  hash (password: string): Promise<string>
  /**
   * Verifies `password` against `stored`, in any format lib/password-formats.ts accepts (imported users keep
   * their bcrypt, PBKDF2 or argon2 hash until they sign in). With no stored hash (unknown user, no password
   * set) it verifies against a dummy hash of the same cost, and a failure is answered no sooner than the
   * slowest kind of hash seen takes, so "no such user" takes as long as "wrong password" whatever the user's
   * hash is. `needsRehash` is true when the hash is not argon2id with today's parameters.
   */
  verify (stored: string | null, password: string): Promise<{ ok: boolean, needsRehash: boolean }>
}

/**
 * How many hashes one server process runs at once: the cores shared out among the WORKERS processes (at
 * least one each), so that N workers together still run about one hash per core, not N per core.
 */
export function hashesPerProcess (workers: number, cores = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / workers))
}

/**
 * argon2id through @node-rs/argon2, whose hash and verify run on libuv's thread pool: the event loop
 * never waits on a hash. Hashes are PHC strings that carry their own parameters.
 */
export async function createPasswordHasher (params: Argon2Params, maxConcurrent = availableParallelism()): Promise<PasswordHasher> {
  const options = { algorithm: ARGON2ID, ...params }
  const run = limit(maxConcurrent)
  // The dummy hash (for unknown users) is made on first need: a CLI command that never verifies one
  // (users disable, clients add) should not pay for it.
  let dummy: Promise<string> | undefined
  const dummyHash = () => (dummy ??= hash(randomBytes(32), options))

  const times = new VerifyTimes()

  return {
    hash: (password) => run(() => hash(password, options)),
    async verify (stored, password) {
      const { ok, kind, ms } = await run(async () => {
        const target = stored ?? await dummyHash()
        const started = performance.now()
        const ok = await verifyHash(target, password)
        return { ok: ok && stored !== null, kind: kindOf(target), ms: performance.now() - started }
      })
      times.record(kind, ms)
      if (!ok) await times.padFailure(ms)
      return { ok, needsRehash: ok && needsRehash(stored!, params) }
    }
  }
}

const kindOf = (stored: string): string => {
  const info = identifyHash(stored)
  return 'error' in info ? 'unknown' : info.kind
}

/**
 * How long verifying each kind of hash (format and cost: `bcrypt:12`, `argon2id:m=19456,t=2,p=1`) takes on
 * this machine, as a moving average. A failed verification is answered no sooner than the slowest kind
 * seen takes (a sleep, not work: it holds no hashing slot), so an unknown user, a wrong password against
 * Gatehouse's argon2id and one against an imported bcrypt hash cost an attacker's stopwatch the same
 * (ASVS 6.3.8). Durations are measured with the monotonic `performance.now()`, not the injected clock:
 * they are the machine's, not the application's time. What remains: after a start, the first failure
 * against a kind slower than every kind seen so far is not yet padded (one sample per kind and process).
 */
class VerifyTimes {
  /** Kinds come from stored hashes (an operator's import), not from requests; bounded all the same. */
  static readonly MAX_KINDS = 64
  readonly #ms = new Map<string, number>()

  record (kind: string, ms: number): void {
    const previous = this.#ms.get(kind)
    if (previous === undefined && this.#ms.size >= VerifyTimes.MAX_KINDS) {
      // Full: forget the fastest kind, which pads nothing while slower ones are known.
      const [fastest] = [...this.#ms].sort((a, b) => a[1] - b[1])[0]!
      this.#ms.delete(fastest)
    }
    this.#ms.set(kind, previous === undefined ? ms : previous * 0.8 + ms * 0.2)
  }

  async padFailure (tookMs: number): Promise<void> {
    let slowest = 0
    for (const ms of this.#ms.values()) slowest = Math.max(slowest, ms)
    const wait = slowest - tookMs
    if (wait >= 1) await sleep(wait)
  }
}

/**
 * Runs at most `max` tasks at once, the rest in arrival order. Hashes are capped at one per core: more
 * in flight hash no faster (argon2 with p=1 is one core's work) but crowd the event loop off the CPU
 * (GET /users/me p99 during a login flood) and fill libuv's whole thread pool, which file and DNS work shares.
 */
function limit (max: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0
  const waiting: Array<() => void> = []
  return async (task) => {
    if (active < max) active++
    else await new Promise<void>((resolve) => waiting.push(resolve)) // the finishing task hands over its slot
    try {
      return await task()
    } finally {
      const next = waiting.shift()
      if (next) next()
      else active--
    }
  }
}

/** True when `stored` is not argon2id with `params` (imported bcrypt and PBKDF2 hashes never parse here). */
function needsRehash (stored: string, params: Argon2Params): boolean {
  try {
    const p = parseOptions(stored)
    return p.algorithm !== ARGON2ID || p.memoryCost !== params.memoryCost || p.timeCost !== params.timeCost || p.parallelism !== params.parallelism
  } catch {
    return true
  }
}
