import { hash, verify, parseOptions } from '@node-rs/argon2'
import { randomBytes } from 'node:crypto'
import { availableParallelism } from 'node:os'
import type { Config } from './config.js'

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
   * Verifies `password` against `stored`. With no stored hash (unknown user, no password set) it verifies
   * against a dummy hash of the same cost, so "no such user" takes as long as "wrong password".
   * `needsRehash` is true when the hash was made with other parameters than today's.
   */
  verify (stored: string | null, password: string): Promise<{ ok: boolean, needsRehash: boolean }>
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

  return {
    hash: (password) => run(() => hash(password, options)),
    async verify (stored, password) {
      if (stored === null) {
        await run(async () => verify(await dummyHash(), password)).catch(() => false)
        return { ok: false, needsRehash: false }
      }
      const ok = await run(() => verify(stored, password)).catch(() => false)
      return { ok, needsRehash: ok && needsRehash(stored, params) }
    }
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

function needsRehash (stored: string, params: Argon2Params): boolean {
  try {
    const p = parseOptions(stored)
    return p.algorithm !== ARGON2ID || p.memoryCost !== params.memoryCost || p.timeCost !== params.timeCost || p.parallelism !== params.parallelism
  } catch {
    return true
  }
}
