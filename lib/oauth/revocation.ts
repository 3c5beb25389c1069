import type { Clock } from '../clock.js'
import type { RevocationStore, RevokeOptions, Storage } from '../stores/types.js'
import { CLOCK_LEEWAY_SECONDS, type AccessTokenClaims } from './access-tokens.js'
import type { PresentedToken } from './token-lookup.js'

/**
 * Revocation of access tokens (RFC 7009 §2.1). JWT access tokens cannot be recalled, so a revoked one is
 * refused through the deny-list until it would have expired anyway. An entry names either one token (by
 * its `jti`) or a whole grant (every access token issued from one refresh-token family carries its
 * `grant_id`). This file is the only place that knows how an entry is spelled and how long it lasts.
 */

/** Prefix of a grant's entry; stores that write grant entries in SQL use it as a parameter. */
export const GRANT_ENTRY_PREFIX = 'grant:'
const TOKEN_ENTRY_PREFIX = 'jti:'

export const denyEntry = {
  token: (jti: string): string => TOKEN_ENTRY_PREFIX + jti,
  grant: (grantId: string): string => GRANT_ENTRY_PREFIX + grantId
}

/** The entries that would refuse this access token: its own, and its grant's when it has one. */
export function denyEntriesOf (claims: Pick<AccessTokenClaims, 'jti' | 'grant_id'>): string[] {
  return claims.grant_id ? [denyEntry.token(claims.jti), denyEntry.grant(claims.grant_id)] : [denyEntry.token(claims.jti)]
}

/**
 * How long a grant's entry must last when it is revoked at `now`: until the latest `exp` any access token
 * from it can have (issued just now, plus the verifiers' clock leeway).
 */
export function revokeOptions (now: number, accessTokenTtl: number): RevokeOptions {
  return { now, denyUntil: now + accessTokenTtl + CLOCK_LEEWAY_SECONDS }
}

/** Refuses one access token until it expires (its `exp` plus the leeway). */
export async function revokeAccessToken (revocations: RevocationStore, claims: Pick<AccessTokenClaims, 'jti' | 'exp'>): Promise<void> {
  await revocations.add([denyEntry.token(claims.jti)], claims.exp + CLOCK_LEEWAY_SECONDS)
}

/**
 * RFC 7009 §2.1: revokes `token` when it belongs to `clientId`. Revoking a refresh token revokes its whole
 * grant, access tokens included; an access token goes on the deny-list by its `jti`. Anything else (unknown,
 * expired, another client's) is left alone, and the caller answers the same 200 either way, so the endpoint
 * tells nothing about foreign tokens.
 */
export async function revokeToken (found: PresentedToken, clientId: string, deps: { storage: Storage, clock: Clock, accessTokenTtl: number }): Promise<void> {
  if (found?.kind === 'access_token' && found.claims.client_id === clientId) {
    await revokeAccessToken(deps.storage.revocations, found.claims)
  } else if (found?.kind === 'refresh_token' && found.grant.clientId === clientId) {
    await deps.storage.grants.revoke(found.grant.id, revokeOptions(deps.clock.now(), deps.accessTokenTtl))
  }
}
