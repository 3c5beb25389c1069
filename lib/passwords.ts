import { hash, verify, parseOptions } from '@node-rs/argon2'
import { randomBytes } from 'node:crypto'

/** argon2id cost parameters (OWASP's minimum is m=19456 KiB, t=2, p=1). */
export interface Argon2Params { memoryCost: number, timeCost: number, parallelism: number }

/** Longest password accepted, in characters: bounds the hashing cost an attacker can ask for. */
export const MAX_PASSWORD_LENGTH = 1024

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
export async function createPasswordHasher (params: Argon2Params): Promise<PasswordHasher> {
  const options = { algorithm: ARGON2ID, ...params }
  const dummy = await hash(randomBytes(32), options)

  return {
    hash: (password) => hash(password, options),
    async verify (stored, password) {
      if (stored === null) {
        await verify(dummy, password).catch(() => false)
        return { ok: false, needsRehash: false }
      }
      const ok = await verify(stored, password).catch(() => false)
      return { ok, needsRehash: ok && needsRehash(stored, params) }
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
