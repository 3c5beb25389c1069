import { hash, parseOptions } from '@node-rs/argon2'
import { randomBytes } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Config } from '../config.js'
import { temporarilyUnavailable } from '../errors.js'
import { argon2Kind, identifyHash, verifyHash } from './password-formats.js'
import { costError, hashLimits, type HashLimits } from './hash-limits.js'

/** argon2id cost parameters (OWASP's minimum is m=19456 KiB, t=2, p=1). */
/**
 * The password hash of a user created by an upstream provider's sign-in (issue 14): no password matches it
 * (verify treats it as no password at all, at the same cost as a wrong one), so the password grant and the
 * login form answer the ordinary invalid_grant. `!` starts no hash format Gatehouse or an import accepts.
 */
export const UNUSABLE_PASSWORD = '!upstream'
export const isUnusablePassword = (stored: string): boolean => stored.startsWith('!')

export interface Argon2Params { memoryCost: number, timeCost: number, parallelism: number }

/** The configured cost (ARGON2_* settings). */
export function argon2Params (config: Pick<Config, 'argon2MemoryKib' | 'argon2TimeCost' | 'argon2Parallelism'>): Argon2Params {
  return { memoryCost: config.argon2MemoryKib, timeCost: config.argon2TimeCost, parallelism: config.argon2Parallelism }
}

const ARGON2ID = 2 // Algorithm.Argon2id (a const enum in the package's typings)

export interface PasswordHasher {
  hash (password: string): Promise<string>
  /**
   * Verifies `password` against `stored`, in any format lib/credentials/password-formats.ts accepts (imported users keep
   * their bcrypt, PBKDF2 or argon2 hash until they sign in). With no stored hash (unknown user, no password
   * set) it verifies against a dummy hash of the configured cost, and a failure is answered no sooner than the
   * slowest kind of hash seen takes (never longer than the bound of hash-limits.ts takes), so "no such user"
   * takes as long as "wrong password" whatever the user's hash is. A stored hash costlier than that bound is
   * never run: the dummy hash is verified instead, the answer is a failure, and `refused` says why (the caller
   * logs it). `needsRehash` is true when the hash is not argon2id with today's parameters.
   */
  verify (stored: string | null, password: string, who?: QueueKey): Promise<Verified>
  /** The hash queue's state (for /metrics and tests). */
  readonly queue: { readonly active: number, readonly waiting: number, readonly capacity: number, readonly averageMs: number }
}

export interface Verified {
  ok: boolean
  needsRehash: boolean
  /** Set when the stored hash costs more than a sign-in may spend: it was not run (a failure, whatever the password). */
  refused?: string
}

/** Who a hash is for: the fairness keys of the hash queue (a sign-in's client address and account). */
export interface QueueKey { address?: string, account?: string }

/** The refusals of a full hash queue, told apart from other 503s (a store outage) for the login_shed event. */
const SHED = new WeakSet<Error>()
export const isShedByHashQueue = (err: unknown): boolean => err instanceof Error && SHED.has(err)

/** By default, at most this much hashing waits: beyond it sign-ins are shed at once (503). */
export const DEFAULT_QUEUE_SECONDS = 3

/**
 * How many hashes one server process runs at once: the cores but one, shared out among the WORKERS processes
 * (at least one each). One core is left to the event loops: on a 2-core machine, hashing on both starves every
 * other request during a login flood (GET /users/me p99 in seconds). The CLI hashes on all of them.
 */
export function hashesPerProcess (workers: number, cores = availableParallelism()): number {
  return Math.max(1, Math.floor((cores - 1) / workers))
}

/**
 * argon2id through @node-rs/argon2, whose hash and verify run on libuv's thread pool: the event loop
 * never waits on a hash. Hashes are PHC strings that carry their own parameters.
 */
export async function createPasswordHasher (params: Argon2Params, maxConcurrent = availableParallelism(), queueSeconds = DEFAULT_QUEUE_SECONDS): Promise<PasswordHasher> {
  const options = { algorithm: ARGON2ID, ...params }
  const queue = new HashQueue(maxConcurrent, queueSeconds * 1000)
  const run = <T>(task: () => Promise<T>, who?: QueueKey) => queue.run(task, who)
  // The dummy hash (for unknown users) is made on first need: a CLI command that never verifies one
  // (users disable, clients add) should not pay for it.
  let dummy: Promise<string> | undefined
  const dummyHash = () => (dummy ??= hash(randomBytes(32), options))

  const limits = hashLimits(params)
  const times = new VerifyTimes(argon2Kind('argon2id', params.memoryCost, params.timeCost, params.parallelism), params.memoryCost * params.timeCost, limits)

  return {
    hash: (password) => run(() => hash(password, options)),
    queue,
    async verify (stored, password, who) {
      const { ok, kind, ms, refused } = await run(async () => {
        // No password, the unusable marker (users of upstream providers), or a hash beyond what a sign-in may
        // spend: the dummy hash, so the answer takes as long as a wrong password and can never be yes.
        const usable = stored !== null && !isUnusablePassword(stored)
        const refused = usable ? overLimit(stored, limits) : undefined
        const runnable = usable && refused === undefined
        const target = runnable ? stored : await dummyHash()
        const started = performance.now()
        const ok = await verifyHash(target, password, limits)
        return { ok: ok && runnable, kind: kindOf(target), ms: performance.now() - started, refused }
      }, who)
      times.record(kind, ms)
      if (!ok) await times.padFailure(ms)
      if (refused !== undefined) return { ok: false, needsRehash: false, refused }
      return { ok, needsRehash: ok && needsRehash(stored!, params) }
    }
  }
}

/** Why a stored hash may not be run (its cost is beyond `limits`), or undefined. */
function overLimit (stored: string, limits: HashLimits): string | undefined {
  const info = identifyHash(stored)
  return 'error' in info ? undefined : costError(info.cost, limits)
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
 *
 * The padding follows the configured cost, not whatever was seen: only hashes within the bounds of
 * hash-limits.ts are ever run (so recorded), and the wait never exceeds what those bounds take at the measured
 * speed of the configured argon2id (a slow sample on a busy machine cannot stretch it past that).
 */
class VerifyTimes {
  /** Kinds come from stored hashes (an operator's import), not from requests; bounded all the same. */
  static readonly MAX_KINDS = 64
  readonly #ms = new Map<string, number>()

  /** `ownKind`: the configured argon2id's kind, `ownUnits` its cost in the units of `limits`. */
  constructor (readonly ownKind: string, readonly ownUnits: number, readonly limits: HashLimits) {}

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
    const own = this.#ms.get(this.ownKind)
    if (own !== undefined) slowest = Math.min(slowest, own * this.limits.units / this.ownUnits)
    const wait = slowest - tookMs
    if (wait >= 1) await sleep(wait)
  }
}

/**
 * The password-hash queue. At most `maxConcurrent` hashes run at once (one per core): more in flight hash no
 * faster (argon2 with p=1 is one core's work) but crowd the event loop off the CPU (GET /users/me p99 during
 * a login flood) and fill libuv's whole thread pool, which file and DNS work shares.
 *
 * The rest wait, but only as many as the cores can hash within `maxDrainMs` at the measured rate (a moving
 * average of recent hashes): beyond that a hash is refused at once with `503 temporarily_unavailable` and a
 * Retry-After of the time the queue needs to drain, instead of queueing for a minute. Fairness: waiting
 * hashes are served round-robin by client address (one address's burst cannot delay the others by more
 * than one hash per turn), and one address, or one account, may hold at most a tenth of the queue
 * (at least 2), so one address cannot fill it. Hashes without a key (a rehash, the CLI) share one turn.
 */
export class HashQueue {
  #active = 0
  #waiting = 0
  /** Waiting hashes by address, in turn order (a Map keeps insertion order: served ones go to the back). */
  readonly #byAddress = new Map<string, Array<() => void>>()
  readonly #perAccount = new Map<string, number>()
  #averageMs: number | undefined

  constructor (readonly maxConcurrent: number, readonly maxDrainMs: number) {}

  get active (): number { return this.#active }
  get waiting (): number { return this.#waiting }
  get averageMs (): number { return this.#averageMs ?? 0 }

  /** How many hashes may be running or waiting: what the cores hash within maxDrainMs (at least one round). */
  get capacity (): number {
    const ms = Math.max(this.#averageMs ?? 1, 0.05)
    return Math.max(this.maxConcurrent * 2, Math.floor(this.maxDrainMs / ms * this.maxConcurrent))
  }

  async run<T> (task: () => Promise<T>, who: QueueKey = {}): Promise<T> {
    if (this.#active < this.maxConcurrent && this.#waiting === 0) {
      this.#active++
    } else {
      this.#admit(who)
      const address = who.address ?? ''
      const account = who.account
      await new Promise<void>((resolve) => {
        const line = this.#byAddress.get(address)
        if (line) line.push(resolve)
        else this.#byAddress.set(address, [resolve])
        this.#waiting++
        if (account !== undefined) this.#perAccount.set(account, (this.#perAccount.get(account) ?? 0) + 1)
      })
      // #next handed over its slot (#active unchanged) and counted this one out of the line.
      if (account !== undefined) {
        const left = (this.#perAccount.get(account) ?? 1) - 1
        if (left <= 0) this.#perAccount.delete(account)
        else this.#perAccount.set(account, left)
      }
    }
    const started = performance.now()
    try {
      return await task()
    } finally {
      const ms = performance.now() - started
      this.#averageMs = this.#averageMs === undefined ? ms : this.#averageMs * 0.9 + ms * 0.1
      this.#next()
    }
  }

  /** Throws 503 when this hash would wait longer than the queue allows, or beyond its address's or account's share. */
  #admit (who: QueueKey): void {
    const capacity = this.capacity
    const share = Math.max(2, Math.ceil(capacity / 10))
    const full = this.#active + this.#waiting >= capacity
    const addressFull = who.address !== undefined && (this.#byAddress.get(who.address)?.length ?? 0) >= share
    const accountFull = who.account !== undefined && (this.#perAccount.get(who.account) ?? 0) >= share
    if (!full && !addressFull && !accountFull) return
    const drainSeconds = (this.#active + this.#waiting) * (this.#averageMs ?? 0) / this.maxConcurrent / 1000
    const shed = temporarilyUnavailable(Math.max(1, Math.ceil(drainSeconds)),
      full ? 'the server is busy verifying passwords; try again later' : 'too many sign-ins from this address or for this account are waiting; try again later')
    SHED.add(shed)
    throw shed
  }

  /** Hands the finishing hash's slot to the next address in turn, or frees it. */
  #next (): void {
    const first = this.#byAddress.entries().next()
    if (first.done === true) {
      this.#active--
      return
    }
    const [address, line] = first.value
    const resolve = line.shift()!
    this.#byAddress.delete(address)
    if (line.length > 0) this.#byAddress.set(address, line) // to the back of the turn
    this.#waiting--
    resolve()
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
