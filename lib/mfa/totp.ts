import { randomBytes, timingSafeEqual } from 'node:crypto'
import { HOTP, Secret, TOTP } from 'otpauth'

/**
 * Authenticator apps (RFC 6238 TOTP) as every app reads them: HMAC-SHA-1, 6 digits, 30-second steps (the
 * defaults of the Key URI Format, which some apps ignore when told otherwise). One step of drift either way is
 * accepted (RFC 6238 §5.2: a phone's clock a little off, a code typed as it turned). The step a code matched is
 * returned, not a yes/no: the store accepts a step only when it is later than the last one it accepted
 * (UserFactorStore.useStep), so a code works once and every earlier one is refused too.
 */
export const TOTP_ALGORITHM = 'SHA1'
export const TOTP_DIGITS = 6
export const TOTP_PERIOD_SECONDS = 30
/** Steps of drift accepted either way. */
export const TOTP_DRIFT_STEPS = 1
/** RFC 4226 §4 R6 asks for at least 128 bits and recommends 160: 20 bytes, as the RFC's own test secret. */
export const TOTP_SECRET_BYTES = 20

/** A new shared secret, base32 (what the app is given, in the URI and as text). */
export const newTotpSecret = (): string => new Secret({ buffer: randomBytes(TOTP_SECRET_BYTES).buffer }).base32

/** The time step `seconds` falls in. */
export const totpStep = (seconds: number): number => Math.floor(seconds / TOTP_PERIOD_SECONDS)

/** The code of `step` for a base32 secret. */
export function totpCode (secret: string, step: number): string {
  return HOTP.generate({ secret: Secret.fromBase32(secret), algorithm: TOTP_ALGORITHM, digits: TOTP_DIGITS, counter: step })
}

/** A code as typed: spaces (and a dash, as some apps show "123 456") dropped; undefined unless 6 digits remain. */
export function totpCodeInput (input: string): string | undefined {
  const code = input.replace(/[\s-]/g, '')
  return /^[0-9]{6}$/.test(code) ? code : undefined
}

/**
 * The step whose code `code` is, within TOTP_DRIFT_STEPS of now (the latest when two match), or undefined. Every
 * candidate is computed and compared in constant time, so the answer takes as long whichever step matched.
 */
export function matchingStep (secret: string, code: string, nowSeconds: number): number | undefined {
  const typed = totpCodeInput(code)
  if (typed === undefined) return undefined
  const now = totpStep(nowSeconds)
  let found: number | undefined
  for (let step = now - TOTP_DRIFT_STEPS; step <= now + TOTP_DRIFT_STEPS; step++) {
    if (timingSafeEqual(Buffer.from(totpCode(secret, step)), Buffer.from(typed))) found = step
  }
  return found
}

/**
 * The `otpauth://totp/…` URI an app scans (Google Authenticator's Key URI Format): labelled with the username under
 * the issuer's name, so a user with accounts at several Gatehouse servers tells them apart.
 */
export function totpUri (input: { issuer: string, username: string, secret: string }): string {
  return new TOTP({
    issuer: input.issuer,
    label: input.username,
    secret: Secret.fromBase32(input.secret),
    algorithm: TOTP_ALGORITHM,
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS
  }).toString()
}
