import { CLOCK_LEEWAY_SECONDS } from '../clock.js'
import type { RevokeOptions } from './types.js'

/**
 * The deny-list's spelling and windows. JWT access tokens cannot be recalled, so a revoked one is refused
 * through the deny-list until it would have expired anyway. An entry names either one token (by its `jti`)
 * or a whole grant (every access token issued from one refresh-token family carries its `grant_id`). This
 * file is the only place that knows how an entry is spelled and how long it lasts; it sits with the stores
 * that persist the entries, so they need nothing from the protocol layer (lib/oauth/revocation.ts revokes).
 */

/** Prefix of a grant's entry; stores that write grant entries in SQL use it as a parameter. */
export const GRANT_ENTRY_PREFIX = 'grant:'
const TOKEN_ENTRY_PREFIX = 'jti:'

export const denyEntry = {
  token: (jti: string): string => TOKEN_ENTRY_PREFIX + jti,
  grant: (grantId: string): string => GRANT_ENTRY_PREFIX + grantId
}

/** The entries that would refuse this access token: its own, and its grant's when it has one. */
export function denyEntriesOf (claims: { jti: string, grant_id?: string | undefined }): string[] {
  return claims.grant_id ? [denyEntry.token(claims.jti), denyEntry.grant(claims.grant_id)] : [denyEntry.token(claims.jti)]
}

/**
 * How long a grant's entry must last when it is revoked at `now`: until the latest `exp` any access token
 * from it can have (issued just now, plus the verifiers' clock leeway).
 */
export function revokeOptions (now: number, accessTokenTtl: number): RevokeOptions {
  return { now, denyUntil: now + accessTokenTtl + CLOCK_LEEWAY_SECONDS }
}

/** Until when one access token's entry must last: its `exp` plus the leeway. */
export const tokenDenyUntil = (exp: number): number => exp + CLOCK_LEEWAY_SECONDS
