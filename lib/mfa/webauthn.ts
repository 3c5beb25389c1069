import type {
  AuthenticationResponseJSON, CredentialDeviceType, PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON, RegistrationResponseJSON
} from '@simplewebauthn/server'
import { digest } from '../credentials/digest.js'
import type { Limit } from '../limits/throttle.js'
import type { NewUserFactor, UserFactor } from '../stores/types.js'
import { withSecondFactor, type SecondFactorAmr } from './assurance.js'
import { factorName, MAX_FACTOR_NAME } from './factor-name.js'

/**
 * @simplewebauthn/server with its dependencies takes 0.4 s to load on a quiet machine (1.4 s on a loaded one): it is
 * loaded at the first passkey ceremony, not at every start of every process.
 */
let library: Promise<typeof import('@simplewebauthn/server')> | undefined
const simpleWebAuthn = async () => await (library ??= import('@simplewebauthn/server'))

/**
 * The WebAuthn rules (W3C WebAuthn Level 2), around @simplewebauthn/server: who the relying party is, what the
 * browser is asked for, and what a response must prove. Pure: no store, no clock (lib/mfa/passkeys.ts holds the
 * ceremonies with their challenges). Every response is verified with user verification required (a PIN, a
 * fingerprint: the passkey is two factors by itself), and every registration asks for a discoverable credential, so
 * the login page can sign in without a username.
 */

/** How long a challenge may wait for its answer (WebAuthn §13.4.3 asks for short-lived challenges); the browser's timeout is the same. */
export const CHALLENGE_TTL_SECONDS = 300
/** A passkey's name on the account page, when the user gives none. */
export const DEFAULT_PASSKEY_NAME = 'Passkey'
/** The longest passkey name kept (longer ones are cut): every factor's bound. */
export const PASSKEY_NAME_MAX = MAX_FACTOR_NAME
/** The longest response text read from a form: an attestation with a certificate chain is a few KiB. */
export const RESPONSE_TEXT_MAX = 32_768

/**
 * Ceremonies started per client address (each stores a challenge until it expires), and failed ones: a failure
 * counts one more, so an address answering with bad assertions runs out twice as fast. A person starts a handful a
 * minute; the login page starts one as it loads (conditional UI).
 */
export const PASSKEY_CEREMONIES = { max: 60, windowSeconds: 60 }

/** `address`: the client's address key (lib/limits/address-key.ts); counters hold only its digest. */
export function passkeyLimits (address: string): Limit[] {
  return [{ key: `passkey:${digest(address).slice(0, 22)}`, ...PASSKEY_CEREMONIES, kind: 'address' }]
}

/** The relying party: its id is the issuer's host name, and responses must come from the issuer's origin (WebAuthn §5.1.3, §7.1 step 9). */
export interface RelyingParty { id: string, origin: string, name: string }

export function relyingParty (issuer: string, issuerName: string): RelyingParty {
  const url = new URL(issuer)
  return { id: url.hostname, origin: url.origin, name: issuerName }
}

/** A passkey's authenticator: bound to one device (RFC 8176 `hwk`), or synced between devices (`swk`). */
export const passkeyAmr = (deviceType: unknown): SecondFactorAmr => deviceType === 'multiDevice' ? 'swk' : 'hwk'

/** A session signed in with a passkey alone: the key, the user verified on it (`user`), so two factors (`mfa`). */
export const passkeySignInAmr = (factor: SecondFactorAmr): string[] => withSecondFactor([factor, 'user'], factor)

/** Whether a session's `amr` says it was signed in with a passkey and no password (the account page names it so). */
export const signedInWithPasskey = (amr: readonly string[]): boolean => !amr.includes('pwd') && (amr.includes('hwk') || amr.includes('swk'))

/** A name the user typed, as every factor's is kept (factor-name.ts); the default when empty. */
export const passkeyName = (typed: unknown): string => factorName(typed, DEFAULT_PASSKEY_NAME)

/** The user handle a passkey carries (WebAuthn §5.4.3): the user's id, opaque, no personal data. */
const userHandle = (userId: string): Uint8Array<ArrayBuffer> => new Uint8Array(Buffer.from(userId, 'utf8'))

/** What the browser's navigator.credentials.create() gets to add a passkey for `user`, none of `existing` again. */
export async function creationOptions (rp: RelyingParty, user: { id: string, username: string, fullName: string | null }, existing: readonly UserFactor[]): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return (await simpleWebAuthn()).generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userID: userHandle(user.id),
    userName: user.username,
    userDisplayName: user.fullName ?? user.username,
    timeout: CHALLENGE_TTL_SECONDS * 1000,
    attestationType: 'none',
    excludeCredentials: existing.filter((f) => f.kind === 'passkey' && f.credentialId !== null).map((f) => ({ id: f.credentialId as string, transports: transportsOf(f) })),
    authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' }
  })
}

/** What navigator.credentials.get() gets: any discoverable passkey of this site (a sign-in), or one of `allowed` (a second factor). */
export async function requestOptions (rp: RelyingParty, allowed?: readonly UserFactor[]): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return (await simpleWebAuthn()).generateAuthenticationOptions({
    rpID: rp.id,
    timeout: CHALLENGE_TTL_SECONDS * 1000,
    userVerification: 'required',
    ...(allowed ? { allowCredentials: allowed.filter((f) => f.credentialId !== null).map((f) => ({ id: f.credentialId as string, transports: transportsOf(f) })) } : {})
  })
}

const transportsOf = (factor: UserFactor): string[] | undefined => {
  const transports = factor.data?.transports
  return Array.isArray(transports) && transports.every((t) => typeof t === 'string') ? transports : undefined
}

/** A response the browser posted: JSON of the right shape, or undefined. */
export function parseResponse<T extends RegistrationResponseJSON | AuthenticationResponseJSON> (text: unknown): T | undefined {
  if (typeof text !== 'string' || text.length > RESPONSE_TEXT_MAX) return undefined
  let value: unknown
  try { value = JSON.parse(text) } catch { return undefined }
  if (typeof value !== 'object' || value === null) return undefined
  const { id, rawId, type, response } = value as Record<string, unknown>
  if (typeof id !== 'string' || typeof rawId !== 'string' || type !== 'public-key' || typeof response !== 'object' || response === null) return undefined
  if (typeof (response as Record<string, unknown>).clientDataJSON !== 'string') return undefined
  return { clientExtensionResults: {}, ...value } as T
}

/** The challenge a response answers (clientDataJSON's, base64url), to find it among those issued; undefined when unreadable. */
export function challengeOf (response: RegistrationResponseJSON | AuthenticationResponseJSON): string | undefined {
  try {
    const client = JSON.parse(Buffer.from(response.response.clientDataJSON, 'base64url').toString('utf8')) as { challenge?: unknown }
    return typeof client.challenge === 'string' && /^[A-Za-z0-9_-]{16,128}$/.test(client.challenge) ? client.challenge : undefined
  } catch {
    return undefined
  }
}

/** Why a response was refused: each an `mfa_failed` reason. */
export type PasskeyRefusal =
  /** Not a WebAuthn response at all. */
  | 'malformed'
  /** Its challenge was not issued to this browser for this, was answered already, or expired. */
  | 'challenge'
  /** No passkey has this credential id (or not the user's whose password step is done). */
  | 'unknown_credential'
  /** The response names another user than the passkey's (WebAuthn §7.2 step 6). */
  | 'user_handle'
  /** The signature, origin, RP ID, type or flags (user verification) do not hold. */
  | 'invalid'
  /** The signature counter did not move forward: a cloned authenticator (WebAuthn §6.1.1), or a replay. */
  | 'counter'
  | 'disabled'

/** Checks a registration response against the challenge it answers; the new factor's fields, or why not. */
export async function verifyCreation (rp: RelyingParty, response: RegistrationResponseJSON, challenge: string):
Promise<{ ok: true, factor: Pick<NewUserFactor, 'credentialId' | 'publicKey' | 'counter' | 'data'> } | { ok: false, reason: PasskeyRefusal, detail: string }> {
  let verified
  try {
    verified = await (await simpleWebAuthn()).verifyRegistrationResponse({ response, expectedChallenge: challenge, expectedOrigin: rp.origin, expectedRPID: rp.id, requireUserVerification: true })
  } catch (err) {
    return { ok: false, reason: 'invalid', detail: (err as Error).message }
  }
  if (!verified.verified) return { ok: false, reason: 'invalid', detail: 'not verified' }
  // A credential the authenticator says it did not keep could never sign in without a username.
  if (response.clientExtensionResults?.credProps?.rk === false) return { ok: false, reason: 'invalid', detail: 'not a discoverable credential' }
  const info = verified.registrationInfo
  return {
    ok: true,
    factor: {
      credentialId: info.credential.id,
      publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
      counter: info.credential.counter,
      data: { transports: response.response.transports ?? [], deviceType: info.credentialDeviceType, backedUp: info.credentialBackedUp, aaguid: info.aaguid }
    }
  }
}

/** Checks an assertion by `factor`'s passkey against the challenge it answers; its new counter and device type, or why not. */
export async function verifyAssertion (rp: RelyingParty, factor: UserFactor, response: AuthenticationResponseJSON, challenge: string):
Promise<{ ok: true, counter: number, deviceType: CredentialDeviceType } | { ok: false, reason: PasskeyRefusal, detail: string }> {
  if (factor.credentialId === null || factor.publicKey === null) return { ok: false, reason: 'unknown_credential', detail: 'not a passkey' }
  // A discoverable credential names its user: it must be the passkey's own (WebAuthn §7.2 step 6).
  const handle = response.response.userHandle
  if (handle !== undefined && handle !== null && handle !== '' && handle !== Buffer.from(userHandle(factor.userId)).toString('base64url')) {
    return { ok: false, reason: 'user_handle', detail: 'the response names another user' }
  }
  try {
    const verified = await (await simpleWebAuthn()).verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      credential: { id: factor.credentialId, publicKey: new Uint8Array(Buffer.from(factor.publicKey, 'base64url')), counter: factor.counter, transports: transportsOf(factor) },
      requireUserVerification: true
    })
    if (!verified.verified) return { ok: false, reason: 'invalid', detail: 'not verified' }
    return { ok: true, counter: verified.authenticationInfo.newCounter, deviceType: verified.authenticationInfo.credentialDeviceType }
  } catch (err) {
    const detail = (err as Error).message
    return { ok: false, reason: /counter/i.test(detail) ? 'counter' : 'invalid', detail }
  }
}
