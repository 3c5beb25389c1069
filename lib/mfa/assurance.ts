/**
 * How strongly a sign-in was authenticated, in OpenID Connect's words: `amr` (RFC 8176 authentication method
 * references) and `acr` (OIDC Core §2 authentication context class). The one home of these values: the login and
 * second-factor pages write them into sessions, the interaction policy reads them, ID tokens carry them.
 */

/** Two factors were used (a password and a code or a passkey, or a passkey with user verification). */
export const ACR_MFA = 'urn:gatehouse:acr:mfa'
/** One factor: a password (or an upstream provider that reported no second factor). */
export const ACR_PWD = 'urn:gatehouse:acr:pwd'
/** What discovery lists as `acr_values_supported`, weakest first. */
export const ACR_VALUES_SUPPORTED = [ACR_PWD, ACR_MFA] as const

/** RFC 8176 values for the second factors Gatehouse checks itself. */
export type SecondFactorAmr =
  /** A one-time code: an authenticator app or a recovery code. */
  | 'otp'
  /** A passkey bound to one device (hardware-protected key). */
  | 'hwk'
  /** A synced passkey (software-protected key). */
  | 'swk'

/** The `amr` after a second factor on top of `amr`: the first factor's values, the factor's, and `mfa` (no repeats). */
export function withSecondFactor (amr: readonly string[], factor: SecondFactorAmr): string[] {
  return [...new Set([...amr.filter((v) => v !== 'mfa'), factor, 'mfa'])]
}

/** Whether a session's `amr` shows two factors. */
export const usedTwoFactors = (amr: readonly string[]): boolean => amr.includes('mfa')

/** The `acr` an ID token states for a session's `amr`. */
export const acrOf = (amr: readonly string[]): string => usedTwoFactors(amr) ? ACR_MFA : ACR_PWD

/**
 * Whether an `acr_values` request parameter asks for two factors. OIDC Core §3.1.2.1: space-separated values "in order
 * of preference", any of which the request accepts; so it does when it names the two-factor class and not the
 * one-factor one (`pwd mfa` and `mfa pwd` accept a password: what OpenID conformance's acr_values test sends, all of
 * acr_values_supported, must pass with a password sign-in). Values Gatehouse does not know are ignored.
 */
export function asksForTwoFactors (acrValues: string | undefined): boolean {
  const values = acrValues === undefined ? [] : acrValues.split(' ')
  return values.includes(ACR_MFA) && !values.includes(ACR_PWD)
}
