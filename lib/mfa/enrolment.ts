import { randomUUID } from 'node:crypto'
import type { SecretBox } from '../credentials/secret-box.js'
import { MAX_FACTORS_PER_USER, UNCONFIRMED_FACTOR_SECONDS } from '../limits/table-bounds.js'
import { TooManyFactorsError, type NewUserFactor, type Storage, type User, type UserFactor } from '../stores/types.js'
import { factorName } from './factor-name.js'
import { removeOwnFactor } from './factors.js'
import { qrSvg } from './qr.js'
import { newRecoveryCodes, recoveryCodeDigest } from './recovery-codes.js'
import { acceptTotp, totpSecretContext } from './second-factor.js'
import { newTotpSecret, totpUri } from './totp.js'

/**
 * Enrolling an authenticator app (the account page and the in-flow enrolment page share these rules): a new
 * secret sealed with SECRETS_KEY under the factor's own context, shown once as a QR code, as text and as the
 * otpauth URI; the factor counts only once a first code from it was accepted (UserFactorStore.useStep with
 * confirm). With the user's first factor come ten recovery codes, shown once; removing the last factor voids them.
 */

export interface EnrolmentDeps { storage: Storage, secrets: SecretBox | undefined, issuerName: string }

/** What the page shows while an app is being added. */
export interface TotpEnrolment {
  factorId: string
  name: string
  /** Base32, grouped by four for reading. */
  secretText: string
  uri: string
  qr: string
}

export type EnrolmentStart =
  | { outcome: 'started', enrolment: TotpEnrolment }
  | { outcome: 'no_secrets_key' }
  | { outcome: 'too_many' }

/** What an authenticator app leaves empty of a factor's fields (they are a passkey's). */
export const NO_PASSKEY = { credentialId: null, publicKey: null, counter: 0, data: null } as const

/** An app's name when the user gives none. */
export const DEFAULT_APP_NAME = 'Authenticator app'

async function shown (deps: EnrolmentDeps, user: User, factor: Pick<UserFactor, 'id' | 'name'>, secret: string): Promise<TotpEnrolment> {
  const uri = totpUri({ issuer: deps.issuerName, username: user.username, secret })
  return { factorId: factor.id, name: factor.name, secretText: secret.replace(/(.{4})(?=.)/g, '$1 '), uri, qr: await qrSvg(uri, `QR code for ${deps.issuerName}`) }
}

/** The user's enrolment still waiting for its first code (the newest, not older than the sweep's hour), with its secret. */
export async function pendingEnrolment (deps: EnrolmentDeps, user: User, now: number, factorId?: string): Promise<TotpEnrolment | undefined> {
  if (deps.secrets === undefined) return undefined
  const waiting = (await deps.storage.factors.list(user.id))
    .filter((f) => f.kind === 'totp' && f.confirmedAt === null && f.secret !== null && f.createdAt > now - UNCONFIRMED_FACTOR_SECONDS)
    .filter((f) => factorId === undefined || f.id === factorId)
    .at(-1)
  const secret = waiting && deps.secrets.open(waiting.secret!, totpSecretContext(waiting))
  return waiting && secret !== undefined ? shown(deps, user, waiting, secret) : undefined
}

/**
 * Starts adding an app: the enrolment already waiting when there is one (a reload, or a link followed twice, makes
 * no second row), else a new unconfirmed factor. Refused without SECRETS_KEY, and past MAX_FACTORS_PER_USER.
 */
export async function startTotpEnrolment (deps: EnrolmentDeps, user: User, input: { name?: unknown, now: number }): Promise<EnrolmentStart> {
  const { storage, secrets } = deps
  if (secrets === undefined) return { outcome: 'no_secrets_key' }
  const waiting = await pendingEnrolment(deps, user, input.now)
  if (waiting) return { outcome: 'started', enrolment: waiting }
  const id = randomUUID()
  const secret = newTotpSecret()
  const factor: NewUserFactor = {
    id,
    userId: user.id,
    kind: 'totp',
    name: factorName(input.name, DEFAULT_APP_NAME),
    secret: secrets.seal(secret, totpSecretContext({ userId: user.id, id })),
    ...NO_PASSKEY,
    createdAt: input.now,
    confirmedAt: null
  }
  try {
    await storage.factors.create(factor, MAX_FACTORS_PER_USER)
  } catch (err) {
    if (err instanceof TooManyFactorsError) return { outcome: 'too_many' }
    throw err
  }
  return { outcome: 'started', enrolment: await shown(deps, user, factor, secret) }
}

export type EnrolmentConfirm =
  | { outcome: 'confirmed', factor: UserFactor, recoveryCodes: string[] | undefined }
  | { outcome: 'wrong', enrolment: TotpEnrolment | undefined }

/**
 * Confirms the waiting enrolment `factorId` with a code from the app. When the user has no recovery codes (this is
 * their first factor): ten new ones, returned to show once (the store keeps their digests).
 */
export async function confirmTotpEnrolment (deps: EnrolmentDeps, user: User, input: { factorId: unknown, code: unknown, now: number }): Promise<EnrolmentConfirm> {
  const { storage } = deps
  const factorId = typeof input.factorId === 'string' && input.factorId.length <= 64 ? input.factorId : undefined
  const enrolment = factorId === undefined ? undefined : await pendingEnrolment(deps, user, input.now, factorId)
  const factor = enrolment && await storage.factors.get(user.id, enrolment.factorId)
  if (!factor || typeof input.code !== 'string') return { outcome: 'wrong', enrolment }
  if (await acceptTotp(deps, [factor], input.code, input.now, true) === undefined) return { outcome: 'wrong', enrolment }
  // None left: the user's first factor (removing the last one voids them), or every code of the last set used.
  const recoveryCodes = await storage.factors.recoveryCodesLeft(user.id) === 0 ? await replaceRecoveryCodes(storage, user, input.now) : undefined
  return { outcome: 'confirmed', factor, recoveryCodes }
}

/** A new set of recovery codes (the old set void at once); returned to show once. */
export async function replaceRecoveryCodes (storage: Storage, user: User, now: number): Promise<string[]> {
  const codes = newRecoveryCodes()
  await storage.factors.replaceRecoveryCodes(user.id, codes.map((c) => recoveryCodeDigest(c)!), now)
  return codes
}

/** Removes one of the user's apps (factors.ts removeOwnFactor: the recovery codes go with the last factor). Undefined when it was none of theirs. */
export const removeApp = (storage: Storage, user: User, factorId: unknown, now: number): Promise<UserFactor | undefined> =>
  removeOwnFactor(storage, user.id, factorId, now, 'totp')
