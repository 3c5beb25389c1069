import { jsonOr, num, numOrNull, requestedClaimsOf, resourcesOf, strOrNull, type Row } from './rows.js'
import type { AuthorizationCode, Consent, IssuedFromCode, Session } from './types.js'

/** Row ⇄ entity mapping of the browser-flow tables (sessions, consents, authorization codes), shared by both backends. */

export const toSession = (r: Row): Session => ({
  idHash: String(r.id_hash),
  userId: String(r.user_id),
  authTime: num(r.auth_time),
  createdAt: num(r.created_at),
  expiresAt: num(r.expires_at),
  credentialVersion: num(r.credential_version ?? 0),
  provider: strOrNull(r.provider),
  amr: jsonOr<string[]>(r.amr, []),
  sid: strOrNull(r.sid),
  userAgent: strOrNull(r.user_agent)
})

export const toConsent = (r: Row): Consent => ({
  userId: String(r.user_id),
  clientId: String(r.client_id),
  scope: String(r.scope),
  createdAt: num(r.created_at),
  updatedAt: num(r.updated_at)
})

/**
 * How a code issued without a PKCE challenge is stored: the column is NOT NULL on both backends (changing that would
 * rebuild the SQLite table), and no S256 challenge is ever empty (43 characters), so '' cannot be mistaken for one.
 */
export const NO_CODE_CHALLENGE = ''
export const codeChallengeColumn = (challenge: string | null): string => challenge ?? NO_CODE_CHALLENGE

export const toAuthorizationCode = (r: Row): AuthorizationCode => ({
  hash: String(r.hash),
  clientId: String(r.client_id),
  userId: String(r.user_id),
  redirectUri: String(r.redirect_uri),
  codeChallenge: r.code_challenge === NO_CODE_CHALLENGE ? null : String(r.code_challenge),
  nonce: strOrNull(r.nonce),
  scope: String(r.scope),
  claims: requestedClaimsOf(r.claims),
  authTime: num(r.auth_time),
  sessionHash: strOrNull(r.session_hash),
  sid: strOrNull(r.sid),
  amr: jsonOr<string[]>(r.amr, []),
  credentialVersion: num(r.credential_version ?? 0),
  resources: resourcesOf(r.resources),
  dpopJkt: strOrNull(r.dpop_jkt),
  createdAt: num(r.created_at),
  expiresAt: num(r.expires_at),
  redeemedAt: numOrNull(r.redeemed_at),
  issued: jsonOr<IssuedFromCode | null>(r.issued, null)
})

/** A consent's scope list: sorted and deduplicated, so equal sets are equal strings. */
export const scopeSet = (scopes: Iterable<string>): string => [...new Set(scopes)].filter(Boolean).sort().join(' ')
