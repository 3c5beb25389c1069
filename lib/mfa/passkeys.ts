import { randomUUID } from 'node:crypto'
import type { AuthenticationResponseJSON, PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON, RegistrationResponseJSON } from '@simplewebauthn/server'
import type { Clock } from '../clock.js'
import { digest } from '../credentials/digest.js'
import { MAX_FACTORS_PER_USER } from '../limits/table-bounds.js'
import { ConflictError, TooManyFactorsError, type PasskeyCeremony, type Storage, type User, type UserFactor } from '../stores/types.js'
import {
  challengeOf, CHALLENGE_TTL_SECONDS, creationOptions, parseResponse, passkeyAmr, passkeyName, requestOptions, verifyAssertion,
  verifyCreation, type PasskeyRefusal, type RelyingParty
} from './webauthn.js'
import type { SecondFactorAmr } from './assurance.js'
import { removeOwnFactor } from './factors.js'

/**
 * The passkey ceremonies (W3C WebAuthn Level 2 §7): each starts by storing a challenge for this browser (the binding:
 * its CSRF cookie, so a challenge fetched in one browser is no good in another) and ends by consuming it, once, before
 * anything is verified: a response replayed with the same challenge, or one that answers a challenge issued for
 * something else or to someone else, finds nothing. The table is bounded by the ceremonies an address may start
 * (webauthn.ts passkeyLimits, checked by the caller) and by CHALLENGE_TTL_SECONDS (swept by lib/ops/sweep.ts).
 */

export interface PasskeyDeps { storage: Storage, clock: Clock, rp: RelyingParty }

/** The user's passkeys (their second factors of kind passkey), oldest first. */
export async function passkeysOf (storage: Storage, userId: string): Promise<UserFactor[]> {
  return (await storage.factors.list(userId)).filter((f) => f.kind === 'passkey')
}

async function remember (deps: PasskeyDeps, challenge: string, ceremony: PasskeyCeremony, userId: string | null, binding: string): Promise<void> {
  const now = deps.clock.now()
  await deps.storage.passkeyChallenges.create({ idHash: digest(challenge), bindingHash: digest(binding), ceremony, userId, createdAt: now, expiresAt: now + CHALLENGE_TTL_SECONDS })
}

/** Options to add a passkey for the signed-in `user` (the account page). */
export async function startRegistration (deps: PasskeyDeps, user: User, binding: string): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const options = await creationOptions(deps.rp, user, await passkeysOf(deps.storage, user.id))
  await remember(deps, options.challenge, 'register', user.id, binding)
  return options
}

/** Options to sign in with any passkey of this site (the login page: no username). */
export async function startSignIn (deps: PasskeyDeps, binding: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const options = await requestOptions(deps.rp)
  await remember(deps, options.challenge, 'signin', null, binding)
  return options
}

/** Options to use one of `userId`'s passkeys as the second factor after the password. */
export async function startSecondFactor (deps: PasskeyDeps, userId: string, binding: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const options = await requestOptions(deps.rp, await passkeysOf(deps.storage, userId))
  await remember(deps, options.challenge, 'second-factor', userId, binding)
  return options
}

/** The challenge a response answers, consumed: only when it was issued to this browser for `ceremony` (and `userId`), unused, unexpired. */
async function takeChallenge (deps: PasskeyDeps, response: RegistrationResponseJSON | AuthenticationResponseJSON, binding: string, ceremony: PasskeyCeremony, userId: string | null): Promise<string | undefined> {
  const challenge = challengeOf(response)
  if (challenge === undefined) return undefined
  const stored = await deps.storage.passkeyChallenges.consume(digest(challenge), digest(binding), deps.clock.now())
  return stored !== undefined && stored.ceremony === ceremony && stored.userId === userId ? challenge : undefined
}

export type Refused = { outcome: 'refused', reason: PasskeyRefusal | 'too_many' | 'registered', detail?: string }

/** Adds the passkey a registration response creates, named `name`, for `user`: confirmed at once (it proved itself). */
export async function finishRegistration (deps: PasskeyDeps, user: User, input: { response: unknown, name: unknown, binding: string }):
Promise<{ outcome: 'registered', factor: UserFactor } | Refused> {
  const response = parseResponse<RegistrationResponseJSON>(input.response)
  if (!response) return { outcome: 'refused', reason: 'malformed' }
  const challenge = await takeChallenge(deps, response, input.binding, 'register', user.id)
  if (challenge === undefined) return { outcome: 'refused', reason: 'challenge' }
  const checked = await verifyCreation(deps.rp, response, challenge)
  if (!checked.ok) return { outcome: 'refused', reason: checked.reason, detail: checked.detail }
  const now = deps.clock.now()
  const factor = { id: randomUUID(), userId: user.id, kind: 'passkey' as const, name: passkeyName(input.name), secret: null, ...checked.factor, createdAt: now, confirmedAt: now }
  try {
    await deps.storage.factors.create(factor, MAX_FACTORS_PER_USER)
  } catch (err) {
    if (err instanceof TooManyFactorsError) return { outcome: 'refused', reason: 'too_many' }
    if (err instanceof ConflictError) return { outcome: 'refused', reason: 'registered' }
    throw err
  }
  return { outcome: 'registered', factor: { ...factor, lastStep: null, lastUsedAt: null } }
}

export type Verified = { outcome: 'verified', user: User, factor: UserFactor, amr: SecondFactorAmr }

/**
 * Verifies an assertion: a sign-in (`userId` null: whoever's passkey it is) or the second factor of `userId` (then the
 * passkey must be theirs). The counter is recorded in one atomic update that refuses a counter that did not move
 * forward, so of two presentations at once one wins. A disabled user is refused.
 */
export async function finishAssertion (deps: PasskeyDeps, input: { response: unknown, binding: string, userId: string | null }): Promise<Verified | Refused> {
  const response = parseResponse<AuthenticationResponseJSON>(input.response)
  if (!response) return { outcome: 'refused', reason: 'malformed' }
  const ceremony = input.userId === null ? 'signin' : 'second-factor'
  const challenge = await takeChallenge(deps, response, input.binding, ceremony, input.userId)
  if (challenge === undefined) return { outcome: 'refused', reason: 'challenge' }
  const factor = await deps.storage.factors.findByCredentialId(response.id)
  if (!factor || (input.userId !== null && factor.userId !== input.userId)) return { outcome: 'refused', reason: 'unknown_credential' }
  const checked = await verifyAssertion(deps.rp, factor, response, challenge)
  if (!checked.ok) return { outcome: 'refused', reason: checked.reason, detail: checked.detail }
  const user = await deps.storage.users.findById(factor.userId)
  if (!user || user.disabled) return { outcome: 'refused', reason: 'disabled' }
  if (!await deps.storage.factors.usePasskey(factor.id, checked.counter, deps.clock.now())) return { outcome: 'refused', reason: 'counter' }
  return { outcome: 'verified', user, factor, amr: passkeyAmr(checked.deviceType) }
}

/**
 * Removes one of the user's passkeys (never another kind of factor), as an app is removed (factors.ts
 * removeOwnFactor: the recovery codes go with the last factor); true when it was there.
 */
export async function removePasskey (storage: Storage, userId: string, id: string, now: number): Promise<boolean> {
  return await removeOwnFactor(storage, userId, id, now, 'passkey') !== undefined
}
