import { createHash } from 'node:crypto'
import type { User } from '../stores/types.js'
import { parseScope } from './scopes.js'

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
  /** The authorization request's `nonce`, echoed (§3.1.2.1); null when it had none. */
  nonce: string | null
  accessToken: string
  /** The browser session's id towards clients (Back-Channel Logout 1.0 §2.1); null or absent: no `sid` claim. */
  sid?: string | null
}

/** The claims of an ID token (OIDC Core §2): `sub` is the user's id, as in access tokens, /userinfo and /users/me. */
export function idTokenClaims (input: IdTokenInput) {
  const claims: Record<string, unknown> = {
    iss: input.issuer,
    sub: input.sub,
    aud: input.clientId,
    exp: input.now + input.ttl,
    iat: input.now,
    auth_time: input.authTime,
    at_hash: atHash(input.accessToken)
  }
  if (input.nonce !== null) claims.nonce = input.nonce
  if (input.sid != null) claims.sid = input.sid
  return claims
}

/** The claims /userinfo answers (OIDC Core §5.4): `sub`, and by scope `profile` → name, preferred_username; `email` → email, email_verified. */
export function userInfoClaims (user: User, scope: string | undefined): Record<string, unknown> {
  const scopes = parseScope(scope)
  const claims: Record<string, unknown> = { sub: user.id }
  if (scopes.includes('profile')) {
    claims.preferred_username = user.username
    if (user.fullName !== null) claims.name = user.fullName
  }
  if (scopes.includes('email') && user.email !== null) {
    claims.email = user.email
    // Addresses are set by an administrator (or an import), not proven by the user: not claimed as verified.
    claims.email_verified = false
  }
  return claims
}

/** The claims Gatehouse can put in an ID token or /userinfo (discovery's claims_supported). */
export const CLAIMS_SUPPORTED = ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'at_hash', 'sid', 'name', 'preferred_username', 'email', 'email_verified']
