import type { SecretBox } from '../credentials/secret-box.js'

/**
 * "The password was right; the second factor is still to come": what POST /login leaves for a user with a second
 * factor instead of a session (docs/second-factors.md). Nothing of it counts as signed in: /authorize, /consent and
 * the account page see nobody. It lives in a cookie of its own for PASSWORD_STEP_SECONDS, sealed (AES-256-GCM,
 * lib/credentials/secret-box.ts: the browser can neither read nor change it) under a context no factor secret has.
 * It names the user at the credential version the password was checked against: a password change or a disable
 * since then voids it. The second-factor pages finish it (routes/browser/second-factor.ts): the TOTP or recovery
 * code form, and a passkey.
 */
export interface PasswordStep {
  userId: string
  /** User.credentialVersion when the password was checked. */
  credentialVersion: number
  /** Where the sign-in goes on: the pending /authorize path, a page of ours (/account), or null. */
  returnTo: string | null
  /** Unix seconds. */
  expiresAt: number
}

/** Five minutes: time to find the phone, not time to leave the step lying around. */
export const PASSWORD_STEP_SECONDS = 5 * 60

/** The secret-box context: a factor's secret (`userId:factorId`) never opens as a step, nor a step as a secret. */
const CONTEXT = 'gatehouse/password-step/v1'

export function sealPasswordStep (box: SecretBox, step: PasswordStep): string {
  return box.seal(JSON.stringify([step.userId, step.credentialVersion, step.returnTo, step.expiresAt]), CONTEXT)
}

/** The step a cookie holds, when it was sealed here and has not expired at `now`; undefined otherwise. */
export function openPasswordStep (box: SecretBox, cookie: string | undefined, now: number): PasswordStep | undefined {
  if (cookie === undefined || cookie.length > 4096) return undefined
  const text = box.open(cookie, CONTEXT)
  if (text === undefined) return undefined
  try {
    const [userId, credentialVersion, returnTo, expiresAt] = JSON.parse(text) as unknown[]
    if (typeof userId !== 'string' || typeof credentialVersion !== 'number' || typeof expiresAt !== 'number') return undefined
    if (returnTo !== null && typeof returnTo !== 'string') return undefined
    return expiresAt > now ? { userId, credentialVersion, returnTo, expiresAt } : undefined
  } catch {
    return undefined
  }
}
