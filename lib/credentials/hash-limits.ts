/**
 * How much one password verification may cost: the one home of the bounds an imported (or stored) hash must
 * keep, derived from the configured argon2id cost. A hash's parameters are chosen by whoever wrote it, and a
 * sign-in runs them whoever asks: without bounds, one hash of bcrypt cost 31 or argon2 m=1 GiB, t=64 lets one
 * anonymous wrong guess hold a hashing slot for a minute and a gigabyte.
 *
 * Costs are counted in one unit, the argon2 block pass (m × t: KiB of memory filled, times passes), and each
 * format's parameter is converted with the ratios below, measured side by side on one core (Node 22, x64,
 * @node-rs/argon2, @node-rs/bcrypt, node:crypto): bcrypt 12 took 240 ms, PBKDF2-SHA256 at 1,000,000 iterations
 * 320 ms, PBKDF2-SHA512 at 210,000 181 ms, argon2id m=19456,t=2 10.8 ms. The ratios hold across machines
 * far better than the times do; they only need to be right within a factor of two.
 */

/** The configured argon2id cost (the ARGON2_* settings); parallelism is not counted: it splits the same work. */
export interface Argon2Cost { memoryCost: number, timeCost: number }

/** Units one bcrypt round (2^cost of them per verify) costs. */
export const BCRYPT_ROUND_UNITS = 200
/** Units one PBKDF2 iteration costs, per block of the derived key (32 bytes for SHA-256, 64 for SHA-512). */
export const PBKDF2_ITERATION_UNITS = { sha256: 1.1, sha512: 3 } as const

/** A sign-in may spend a few times what Gatehouse's own hash costs… */
export const LOGIN_COST_FACTOR = 4
/**
 * …and never less than this (about 0.6 s of one core where the ratios were measured), so that what the systems
 * Gatehouse imports from write by default stays importable at any ARGON2_* setting: bcrypt 12 and 13 (passlib,
 * PHP, Laravel), Django's PBKDF2-SHA256 (1,200,000 iterations in Django 6.0; up to ~1.9 M pass), Keycloak's
 * PBKDF2-SHA512 (210,000) and argon2 at 64 MiB, t=3 (pwdlib, argon2-cffi).
 */
export const MIN_LOGIN_UNITS = 2 ** 21
/** Memory one argon2 verify may take: a few times the configured memory, at least 256 MiB (4× the 64 MiB others write). */
export const MIN_ARGON2_MEMORY_KIB = 256 * 1024
export const MAX_ARGON2_PARALLELISM = 16

export interface HashLimits {
  /** The most one verify may cost, in units (argon2 m × t). */
  units: number
  argon2MemoryKib: number
  argon2Parallelism: number
  bcryptCost: number
}

/** The bounds for a server (or CLI) whose new hashes use `argon2`: its own hashes always fall within them. */
export function hashLimits (argon2: Argon2Cost): HashLimits {
  const units = Math.max(MIN_LOGIN_UNITS, LOGIN_COST_FACTOR * argon2.memoryCost * argon2.timeCost)
  return {
    units,
    argon2MemoryKib: Math.max(MIN_ARGON2_MEMORY_KIB, LOGIN_COST_FACTOR * argon2.memoryCost),
    argon2Parallelism: MAX_ARGON2_PARALLELISM,
    bcryptCost: Math.floor(Math.log2(units / BCRYPT_ROUND_UNITS))
  }
}

/** A hash's cost as identified from its parameters (lib/credentials/password-formats.ts). */
export type HashCost =
  | { format: 'argon2', memoryKib: number, timeCost: number, parallelism: number }
  | { format: 'bcrypt', cost: number }
  | { format: 'pbkdf2', digest: 'sha256' | 'sha512', iterations: number, keyBytes: number }

/** The units one verify of a hash with this cost takes. */
export function costUnits (cost: HashCost): number {
  switch (cost.format) {
    case 'argon2': return cost.memoryKib * cost.timeCost
    case 'bcrypt': return 2 ** cost.cost * BCRYPT_ROUND_UNITS
    case 'pbkdf2': return cost.iterations * pbkdf2Blocks(cost) * PBKDF2_ITERATION_UNITS[cost.digest]
  }
}

const pbkdf2Blocks = (cost: { digest: 'sha256' | 'sha512', keyBytes: number }) => Math.ceil(cost.keyBytes / (cost.digest === 'sha256' ? 32 : 64))

/**
 * Why a hash of this cost may not be verified here (a short reason naming the bound, for an import's rejected
 * line and the log), or undefined when it may.
 */
export function costError (cost: HashCost, limits: HashLimits): string | undefined {
  const why = 'more than a sign-in may spend here (bounded by the ARGON2_* settings; docs/import.md)'
  switch (cost.format) {
    case 'argon2':
      if (cost.memoryKib > limits.argon2MemoryKib) return `argon2 memory ${cost.memoryKib} KiB is above ${limits.argon2MemoryKib} KiB, ${why}`
      if (cost.parallelism > limits.argon2Parallelism) return `argon2 parallelism ${cost.parallelism} is above ${limits.argon2Parallelism}`
      if (costUnits(cost) > limits.units) return `argon2 cost m=${cost.memoryKib},t=${cost.timeCost} is above m × t = ${limits.units}, ${why}`
      return undefined
    case 'bcrypt':
      return cost.cost > limits.bcryptCost ? `bcrypt cost ${cost.cost} is above ${limits.bcryptCost}, ${why}` : undefined
    case 'pbkdf2': {
      if (costUnits(cost) <= limits.units) return undefined
      const most = Math.floor(limits.units / (pbkdf2Blocks(cost) * PBKDF2_ITERATION_UNITS[cost.digest]))
      return `PBKDF2-${cost.digest.toUpperCase()} iterations ${cost.iterations} are above ${most} for a ${cost.keyBytes}-byte key, ${why}`
    }
  }
}
