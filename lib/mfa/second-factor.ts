import type { FastifyBaseLogger } from 'fastify'
import type { SecretBox } from '../credentials/secret-box.js'
import type { Throttle } from '../limits/throttle.js'
import { SIGN_IN_LIMITS, signInKeys } from '../oauth/brute-force.js'
import { reserveSignIn } from '../oauth/sign-in-reservation.js'
import type { SecurityEvents } from '../ops/events.js'
import type { Storage, User, UserFactor } from '../stores/types.js'
import { recoveryCodeDigest } from './recovery-codes.js'
import { matchingStep, totpCodeInput } from './totp.js'

/**
 * Checking a second-factor code (an authenticator app's, or a recovery code) for a user whose password was right,
 * or who steps up an existing session. A wrong code is a wrong guess at the account like a wrong password: it is
 * reserved in the same counters before anything is checked (lib/oauth/sign-in-reservation.ts, SECURITY-CASES Q1),
 * so codes sent at once are checked no faster than the limit allows, and the account's failures clear only when a
 * code was right (lib/oauth/sign-in.ts leaves them standing for a right password of a user with a factor).
 */

export type CodeCheck =
  | { outcome: 'ok', used: 'totp' | 'recovery_code' }
  | { outcome: 'wrong' }
  | { outcome: 'throttled', retryAfter: number }

export interface CodeCheckDeps {
  storage: Storage
  throttle: Throttle
  /** Undefined without SECRETS_KEY (PostgreSQL): no app's secret can be opened, so no app's code is right. */
  secrets: SecretBox | undefined
  events: SecurityEvents
  log: FastifyBaseLogger
}

export interface CodeAttempt {
  code: string
  clientIp: string
  /** request.addressKey (lib/limits/address-key.ts). */
  addressKey: string
  /** Who asks (the client of the pending request, or the page): the throttling event names it. */
  clientId: string
  now: number
}

/** The secret-box context of a TOTP factor's secret: a secret copied onto another row or user does not open. */
export const totpSecretContext = (factor: Pick<UserFactor, 'userId' | 'id'>): string => `${factor.userId}:${factor.id}`

/**
 * The step a code matches for one of `factors` (confirmed or not, as the caller chose), accepted atomically in the
 * store (later than the last accepted, so a replay and an older code are refused): true when one took it.
 */
export async function acceptTotp (deps: Pick<CodeCheckDeps, 'storage' | 'secrets'>, factors: UserFactor[], code: string, now: number, confirm = false): Promise<UserFactor | undefined> {
  if (deps.secrets === undefined || totpCodeInput(code) === undefined) return undefined
  for (const factor of factors) {
    if (factor.kind !== 'totp' || factor.secret === null) continue
    const secret = deps.secrets.open(factor.secret, totpSecretContext(factor))
    if (secret === undefined) continue
    const step = matchingStep(secret, code, now)
    if (step !== undefined && await deps.storage.factors.useStep(factor.userId, factor.id, step, now, confirm)) return factor
  }
  return undefined
}

/** Checks `attempt.code` against the user's confirmed apps, then their recovery codes; counts it as a sign-in attempt. */
export async function checkSecondFactorCode (deps: CodeCheckDeps, user: User, attempt: CodeAttempt): Promise<CodeCheck> {
  const { storage, throttle, events, log } = deps
  const reservation = await reserveSignIn(throttle, signInKeys(user.username, attempt.addressKey), SIGN_IN_LIMITS)
  if ('retryAfter' in reservation) {
    events.emit({ type: 'login_throttled', username: user.username, clientId: attempt.clientId, ip: attempt.clientIp }, log)
    return { outcome: 'throttled', retryAfter: reservation.retryAfter }
  }
  let used: 'totp' | 'recovery_code' | undefined
  try {
    const apps = (await storage.factors.list(user.id)).filter((f) => f.kind === 'totp' && f.confirmedAt !== null)
    if (await acceptTotp(deps, apps, attempt.code, attempt.now) !== undefined) used = 'totp'
    else {
      const digest = recoveryCodeDigest(attempt.code)
      if (digest !== undefined && await storage.factors.useRecoveryCode(user.id, digest, attempt.now)) used = 'recovery_code'
    }
  } catch (err) {
    await reservation.settle('release').catch(() => {})
    throw err
  }
  if (used === undefined) {
    await reservation.settle('failure')
    events.emit({ type: 'mfa_failed', userId: user.id, ip: attempt.clientIp, factor: 'code' }, log)
    return { outcome: 'wrong' }
  }
  await reservation.settle('success')
  return { outcome: 'ok', used }
}
