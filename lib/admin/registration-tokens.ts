import { randomBytes } from 'node:crypto'
import type { Clock } from '../clock.js'
import { digest } from '../credentials/digest.js'
import { invalidInput, notFound } from '../errors.js'
import type { RegistrationToken, Storage } from '../stores/types.js'

/**
 * RFC 7591 §3 initial access tokens (REGISTRATION=token, docs/registration.md): made by an administrator (admin API,
 * CLI), printed once, stored only as a digest; each registration spends one use (lib/oauth/registration.ts).
 */

/** The longest life and the most uses a token may be given: a year, a million. */
export const REGISTRATION_TOKEN_LIMITS = { maxExpiresIn: 365 * 24 * 3600, maxUses: 1_000_000 }

export interface RegistrationTokenInput {
  /** Seconds from now; absent: it never expires. */
  expiresIn?: number
  /** Registrations it allows; absent: no limit. */
  maxUses?: number
}

/** Makes a token; returns its view with the token itself (shown this once). */
export async function addRegistrationToken (storage: Storage, clock: Clock, input: RegistrationTokenInput) {
  const { expiresIn, maxUses } = input
  if (expiresIn !== undefined && (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > REGISTRATION_TOKEN_LIMITS.maxExpiresIn)) {
    throw invalidInput(`expires_in: whole seconds from 1 to ${REGISTRATION_TOKEN_LIMITS.maxExpiresIn}`)
  }
  if (maxUses !== undefined && (!Number.isInteger(maxUses) || maxUses < 1 || maxUses > REGISTRATION_TOKEN_LIMITS.maxUses)) {
    throw invalidInput(`max_uses: a whole number from 1 to ${REGISTRATION_TOKEN_LIMITS.maxUses}`)
  }
  const token = randomBytes(32).toString('base64url')
  const now = clock.now()
  const created = await storage.registrationTokens.create({
    id: randomBytes(6).toString('hex'),
    digest: digest(token),
    expiresAt: expiresIn === undefined ? null : now + expiresIn,
    maxUses: maxUses ?? null
  }, now)
  return { ...toRegistrationTokenView(created), token }
}

export async function listRegistrationTokens (storage: Storage) {
  return (await storage.registrationTokens.list()).map(toRegistrationTokenView)
}

export async function removeRegistrationToken (storage: Storage, id: string) {
  const removed = await storage.registrationTokens.delete(id)
  if (!removed) throw notFound(`no registration token ${id.slice(0, 64)}`)
  return toRegistrationTokenView(removed)
}

/** A token as the API and CLI show it: never the token nor its digest. */
export function toRegistrationTokenView (token: RegistrationToken) {
  return { id: token.id, expires_at: token.expiresAt, max_uses: token.maxUses, uses: token.uses, created_at: token.createdAt }
}
