import type { Clock } from '../clock.js'
import { denyEntry, revokeOptions, tokenDenyUntil } from '../stores/deny-list.js'
import type { IssuedFromCode, RevocationStore, Storage } from '../stores/types.js'
import type { AccessTokenClaims } from './access-token-rules.js'
import type { PresentedToken } from './token-lookup.js'

/**
 * Revocation (RFC 7009 §2.1): one access token by its `jti`, or a refresh token's whole grant. How a
 * deny-list entry is spelled and how long it lasts is lib/stores/deny-list.ts's.
 */

/** Refuses one access token until it expires (its `exp` plus the leeway). */
export async function revokeAccessToken (revocations: RevocationStore, claims: Pick<AccessTokenClaims, 'jti' | 'exp'>): Promise<void> {
  await revocations.add([denyEntry.token(claims.jti)], tokenDenyUntil(claims.exp))
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

/**
 * RFC 6749 §4.1.2: an authorization code presented again is a replay, and what its first redemption issued
 * (recorded with the redemption, before issuing: lib/oauth/grants/authorization-code.ts) SHOULD be revoked: the
 * refresh-token family, with every access token issued from it, and the access token by its `jti`.
 */
export async function revokeIssued (issued: IssuedFromCode, deps: { storage: Storage, clock: Clock, accessTokenTtl: number }): Promise<void> {
  if (issued.grantId) await deps.storage.grants.revoke(issued.grantId, revokeOptions(deps.clock.now(), deps.accessTokenTtl))
  await revokeAccessToken(deps.storage.revocations, issued)
}
