import type { FastifyBaseLogger } from 'fastify'
import { invalidGrant, tooManyRequests } from '../errors.js'
import type { SecurityEvents } from '../ops/events.js'
import { isShedByHashQueue, type PasswordHasher, type Verified } from '../credentials/passwords.js'
import type { Throttle } from '../limits/throttle.js'
import type { Storage, User } from '../stores/types.js'
import { MAX_PASSWORD_LENGTH, MAX_USERNAME_INPUT_LENGTH } from '../../schemas/common.js'
import { SIGN_IN_LIMITS, signInKeys } from './brute-force.js'
import { reserveSignIn } from './sign-in-reservation.js'

/** The one reply for an unknown user, a wrong password and a disabled user (ASVS 6.3.8). */
export const BAD_CREDENTIALS = 'invalid username or password'

export interface SignInDeps {
  storage: Storage
  passwords: PasswordHasher
  throttle: Throttle
  /** The request's logger: events and warnings carry its request id. */
  log: FastifyBaseLogger
  /** login_failed and login_throttled are reported here (logged without secrets, counted in /metrics). */
  events: SecurityEvents
}

/** Who is signing in, from where, through which client (the events name the client and the address). */
export interface SignInAttempt {
  username: string
  password: string
  /** `request.ip`: what events and logs name. */
  clientIp: string
  /** The address as per-address limits count it (lib/limits/address-key.ts, `request.addressKey`). */
  addressKey: string
  clientId: string
}

/**
 * Checks a username and password: the one home of the rules every password sign-in follows (the password
 * grant and the login form): lengths and brute-force limits decided before any hash is computed, the same
 * answer and the same time for an unknown user, a wrong password and a disabled user, and the upgrade of an
 * old hash at the first sign-in. Throws `invalid_grant` (BAD_CREDENTIALS) or 429; returns the user.
 */
export async function signIn (deps: SignInDeps, attempt: SignInAttempt): Promise<User> {
  const { storage, passwords, throttle, log, events } = deps
  const { username, password, clientIp, addressKey, clientId } = attempt
  // Longer than any account can have: wrong, and never hashed (a long password costs hashing time). The password
  // grant's schema refuses these first as invalid_request (schemas/common.ts holds the limits); the form cannot.
  if (username.length > MAX_USERNAME_INPUT_LENGTH || password.length > MAX_PASSWORD_LENGTH) throw invalidGrant(BAD_CREDENTIALS)
  // The attempt is reserved before any hash is computed, in one atomic step (lib/oauth/sign-in-reservation.ts):
  // parallel guesses count one by one, so no more passwords are verified than the limits allow.
  const reservation = await reserveSignIn(throttle, signInKeys(username, addressKey), SIGN_IN_LIMITS)
  if ('retryAfter' in reservation) {
    events.emit({ type: 'login_throttled', username, clientId, ip: clientIp }, log)
    throw tooManyRequests(reservation.retryAfter)
  }

  let user: User | undefined
  let verified: Verified
  try {
    // A NUL can never be in a username (and PostgreSQL text cannot hold one): treat it as unknown.
    user = username.includes('\u0000') ? undefined : await storage.users.findByUsername(username)
    // Always verify, against a dummy hash for unknown users, so every failure takes the same time.
    verified = await passwords.verify(user?.passwordHash ?? null, password, { address: addressKey, account: username })
  } catch (err) {
    // Nothing was verified (the store or the hash queue refused): the attempt gives its reservation back.
    await reservation.settle('release').catch(() => {})
    if (isShedByHashQueue(err)) events.emit({ type: 'login_shed', clientId, ip: clientIp }, log)
    throw err
  }
  const { ok, needsRehash } = verified
  // A stored hash beyond what a sign-in may spend was not run: the operator must hear of it (the user cannot sign in).
  if (verified.refused !== undefined) events.emit({ type: 'login_hash_refused', username, reason: verified.refused }, log)
  if (!user || !ok || user.disabled) {
    await reservation.settle('failure')
    events.emit({ type: 'login_failed', username, clientId, ip: clientIp }, log)
    throw invalidGrant(BAD_CREDENTIALS)
  }
  // A user with a second factor has proven only half of it: the attempt gives its reservation back but clears none
  // of the account's failures (wrong codes count there too: lib/mfa/second-factor.ts); the right code clears them.
  let hasSecondFactor: boolean
  try {
    hasSecondFactor = await storage.factors.countConfirmed(user.id) > 0
  } catch (err) {
    await reservation.settle('release').catch(() => {})
    throw err
  }
  await reservation.settle(hasSecondFactor ? 'release' : 'success')

  if (needsRehash && user.passwordHash !== null) {
    // Compare-and-set: if the password was changed (or the user re-imported) while this hash was computed,
    // the new one stays. An imported bcrypt or PBKDF2 hash becomes argon2id here, at the first sign-in.
    const verified = user.passwordHash
    passwords.hash(password)
      .then((passwordHash) => storage.users.replacePasswordHash(user.username, verified, passwordHash))
      .catch((err) => log.warn({ err }, 'rehashing a password with new parameters failed'))
  }
  return user
}
