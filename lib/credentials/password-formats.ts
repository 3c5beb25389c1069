import { verify as argon2Verify } from '@node-rs/argon2'
import { pbkdf2, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'
import { costError, type HashCost, type HashLimits } from './hash-limits.js'

/**
 * The one home for "which format is this stored password hash, and how is it verified". Gatehouse makes
 * argon2id hashes itself (lib/credentials/passwords.ts); these are the formats it also accepts from other systems
 * (`gatehouse users import`), verifies as they are, and replaces with its own argon2id at the first
 * successful sign-in:
 *
 * - argon2id and argon2i in PHC form, `$argon2id$v=19$m=…,t=…,p=…$salt$hash` (Gatehouse's own, pwdlib,
 *   argon2-cffi, passlib, Keycloak after conversion);
 * - bcrypt `$2a$`, `$2b$`, `$2y$` (passlib, the bcrypt packages, PHP, Spring);
 * - PBKDF2-SHA256 (and -SHA512) as passlib writes it, `$pbkdf2-sha256$rounds$salt$hash` with passlib's
 *   adapted base64 (`.` for `+`, no padding);
 * - PBKDF2-SHA256 as Django writes it, `pbkdf2_sha256$iterations$salt$base64(hash)` (the salt is text).
 *
 * Every verification runs off the event loop (libuv's pool: @node-rs/argon2, @node-rs/bcrypt, node:crypto's
 * async pbkdf2). Costs are bounded (lib/credentials/hash-limits.ts), so an imported hash cannot make one sign-in
 * take minutes or gigabytes: `checkHash` refuses it at import, `verifyHash` never runs it.
 */

export type HashFormat = 'argon2' | 'bcrypt' | 'pbkdf2-passlib' | 'pbkdf2-django'

export interface HashInfo {
  format: HashFormat
  /**
   * The format and its cost parameters (`bcrypt:12`, `argon2id:m=19456,t=2,p=1`, `pbkdf2-sha256:870000`):
   * hashes of one kind take the same time to verify (lib/credentials/passwords.ts keeps a time per kind).
   */
  kind: string
  /** What verifying it costs, for the bounds of hash-limits.ts. */
  cost: HashCost
}

export const ACCEPTED_FORMATS = 'argon2id or argon2i (PHC), bcrypt ($2a$, $2b$, $2y$), PBKDF2-SHA256 as passlib ($pbkdf2-sha256$) or Django (pbkdf2_sha256$)'

const ARGON2 = /^\$(argon2id|argon2i)\$v=19\$m=(\d{1,8}),t=(\d{1,4}),p=(\d{1,3})\$([A-Za-z0-9+/]{11,512})\$([A-Za-z0-9+/]{16,1024})$/
const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/
const PASSLIB_PBKDF2 = /^\$pbkdf2-(sha256|sha512)\$(\d{1,9})\$([./A-Za-z0-9]{0,1024})\$([./A-Za-z0-9]{22,128})$/
// eslint-disable-next-line no-control-regex -- NUL is exactly what the salt may not hold (PostgreSQL text cannot)
const DJANGO_PBKDF2 = /^pbkdf2_sha256\$(\d{1,9})\$([^$\s\u0000]{1,256})\$([A-Za-z0-9+/]{22,128}={0,2})$/

/** The kind (see HashInfo) of an argon2 hash with these parameters. */
export const argon2Kind = (variant: string, memoryKib: number, timeCost: number, parallelism: number): string =>
  `${variant}:m=${memoryKib},t=${timeCost},p=${parallelism}`

/**
 * The format of `hash`, its kind and cost, or why it is not a hash Gatehouse can verify at all (a short reason
 * that never quotes the hash). Whether its cost is within what a sign-in may spend is `checkHash`'s question.
 */
export function identifyHash (hash: string): HashInfo | { error: string } {
  let m: RegExpExecArray | null
  if ((m = ARGON2.exec(hash))) {
    const [, variant, mem, time, par] = m
    const [memoryKib, timeCost, parallelism] = [Number(mem), Number(time), Number(par)]
    if (memoryKib < 8 * parallelism || timeCost < 1 || parallelism < 1) return { error: 'argon2 parameters out of range' }
    return { format: 'argon2', kind: argon2Kind(variant!, memoryKib, timeCost, parallelism), cost: { format: 'argon2', memoryKib, timeCost, parallelism } }
  }
  if ((m = BCRYPT.exec(hash))) {
    const cost = Number(m[1])
    // bcrypt's own range (its cost is a 5-bit exponent).
    if (cost < 4 || cost > 31) return { error: `bcrypt cost ${cost} outside 4-31` }
    return { format: 'bcrypt', kind: `bcrypt:${cost}`, cost: { format: 'bcrypt', cost } }
  }
  if ((m = PASSLIB_PBKDF2.exec(hash))) {
    const [, digest, rounds, , checksum] = m
    const keyBytes = ab64Decode(checksum!).length
    const error = pbkdf2Bounds(Number(rounds), keyBytes)
    return error
      ? { error }
      : { format: 'pbkdf2-passlib', kind: `pbkdf2-${digest}:${Number(rounds)}`, cost: { format: 'pbkdf2', digest: digest as 'sha256' | 'sha512', iterations: Number(rounds), keyBytes } }
  }
  if ((m = DJANGO_PBKDF2.exec(hash))) {
    const [, iterations, , encoded] = m
    const keyBytes = Buffer.from(encoded!, 'base64').length
    const error = pbkdf2Bounds(Number(iterations), keyBytes)
    return error
      ? { error }
      : { format: 'pbkdf2-django', kind: `pbkdf2-sha256:${Number(iterations)}`, cost: { format: 'pbkdf2', digest: 'sha256', iterations: Number(iterations), keyBytes } }
  }
  if (hash.startsWith('$argon2d$')) return { error: 'argon2d is not a password hash (use argon2id or argon2i)' }
  if (/^\$argon2/.test(hash)) return { error: 'argon2 hash not in PHC form with v=19' }
  if (/^\$2[abxy]?\$/.test(hash)) return { error: 'malformed bcrypt hash (or the $2x$ variant, which is not accepted)' }
  if (/pbkdf2/i.test(hash)) return { error: 'malformed PBKDF2 hash, or a digest other than SHA-256 (passlib\'s form also takes SHA-512)' }
  return { error: `unknown hash format (accepted: ${ACCEPTED_FORMATS})` }
}

/** `identifyHash`, and refused when verifying it would cost more than `limits` allow (an import's check). */
export function checkHash (hash: string, limits: HashLimits): HashInfo | { error: string } {
  const info = identifyHash(hash)
  if ('error' in info) return info
  const error = costError(info.cost, limits)
  return error === undefined ? info : { error }
}

function pbkdf2Bounds (iterations: number, keyLength: number): string | undefined {
  if (iterations < 1) return 'PBKDF2 iterations must be at least 1'
  // 32 bytes is what passlib and Django write; Keycloak's 512-bit keys converted to passlib's form are 64.
  if (keyLength < 16 || keyLength > 64) return 'PBKDF2 derived key must be 16 to 64 bytes'
  return undefined
}

/** passlib's "adapted base64": standard base64 with `.` instead of `+` and no padding. */
function ab64Decode (text: string): Buffer {
  return Buffer.from(text.replace(/\./g, '+'), 'base64')
}

const pbkdf2Async = promisify(pbkdf2)

/** @node-rs/bcrypt is loaded at the first bcrypt hash: a server that has none never pays for its start-up. */
let bcryptModule: Promise<typeof import('@node-rs/bcrypt')> | undefined
const bcryptVerify = async (password: string, hash: string): Promise<boolean> =>
  (await (bcryptModule ??= import('@node-rs/bcrypt'))).verify(password, hash)

/**
 * True when `password` matches `hash` (in any accepted format). Never throws: a malformed or unknown hash, or
 * one that costs more than `limits` allow (never run), simply does not match. Each algorithm runs on libuv's
 * thread pool, never on the event loop.
 */
export async function verifyHash (hash: string, password: string, limits: HashLimits): Promise<boolean> {
  const info = checkHash(hash, limits)
  if ('error' in info) return false
  try {
    switch (info.format) {
      case 'argon2': return await argon2Verify(hash, password)
      case 'bcrypt': return await bcryptVerify(password, hash)
      case 'pbkdf2-passlib': {
        const [, scheme, rounds, salt, checksum] = hash.split('$') as [string, string, string, string, string]
        const expected = ab64Decode(checksum)
        const derived = await pbkdf2Async(password, ab64Decode(salt), Number(rounds), expected.length, scheme.slice('pbkdf2-'.length))
        return timingSafeEqual(derived, expected)
      }
      case 'pbkdf2-django': {
        const [, iterations, salt, encoded] = hash.split('$') as [string, string, string, string]
        const expected = Buffer.from(encoded, 'base64')
        const derived = await pbkdf2Async(password, Buffer.from(salt, 'utf8'), Number(iterations), expected.length, 'sha256')
        return timingSafeEqual(derived, expected)
      }
    }
  } catch {
    return false
  }
}
