import { createHash } from 'node:crypto'
import { acrOf } from '../mfa/assurance.js'

/** OIDC Core §3.1.3.6: the left half of the SHA-256 of the access token (ES256), base64url. */
export function atHash (accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest().subarray(0, 16).toString('base64url')
}

/** What an ID token says: who signed in (`sub`, the user's id), for which client, when, and the access token issued with it. */
export interface IdTokenInput {
  issuer: string
  sub: string
  clientId: string
  now: number
  ttl: number
  /** When the user authenticated (OIDC Core §2 `auth_time`). */
  authTime: number
  /**
   * How (RFC 8176 `amr`, the sign-in's session's, kept by the code): the token says `amr` when there is one and always
   * `acr` (lib/mfa/assurance.ts acrOf: the two-factor class only when `amr` shows two). Absent: [] (one factor).
   */
  amr?: readonly string[]
  /** The authorization request's `nonce`, echoed (§3.1.2.1); null when it had none. */
  nonce: string | null
  accessToken: string
  /** The user's claims the `claims` parameter asked for in the ID token (lib/oauth/claims.ts `idTokenUserClaims`). */
  userClaims?: Record<string, unknown>
  /** The browser session's id towards clients (Back-Channel Logout 1.0 §2.1); null or absent: no `sid` claim. */
  sid?: string | null
}

/** The claims of an ID token (OIDC Core §2): `sub` is the user's id, as in access tokens, /userinfo and /users/me. */
export function idTokenClaims (input: IdTokenInput) {
  const claims: Record<string, unknown> = {
    // First, so none of them can stand in for one of the ID token's own.
    ...input.userClaims,
    iss: input.issuer,
    sub: input.sub,
    aud: input.clientId,
    exp: input.now + input.ttl,
    iat: input.now,
    auth_time: input.authTime,
    acr: acrOf(input.amr ?? []),
    at_hash: atHash(input.accessToken)
  }
  if (input.amr !== undefined && input.amr.length > 0) claims.amr = [...input.amr]
  else delete claims.amr
  if (input.nonce !== null) claims.nonce = input.nonce
  if (input.sid != null) claims.sid = input.sid
  return claims
}
