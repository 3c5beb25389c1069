import type { CachePeek } from '../stores/cached.js'
import type { Client, Resource, Storage, User } from '../stores/types.js'
import type { AccessTokenClaims } from './access-token-rules.js'
import { DEFAULT_CLIENT } from './client-auth.js'
import { denyEntriesOf } from '../stores/deny-list.js'
import { scopesForResource } from './resources.js'
import { currentScope, formatScope, parseScope } from './scopes.js'
import { subjectKind } from './subjects.js'

/** A usable token: the user it acts for (undefined for a client's own client_credentials token), and its scope now. */
export interface Standing {
  user: User | undefined
  /** The token's scopes that still hold (`currentScope`): what the token may do now. Undefined when none. */
  scope: string | undefined
}

/**
 * Whether a token whose signature and claims are valid may still be used now, and with which scopes. Refused:
 * revoked (itself or its grant); a user's token whose user is gone, disabled or holds a newer credential version
 * (a password change or a disable since it was issued); a token whose client is gone or was re-created (another
 * generation). Which checks apply is decided by the token's subject kind (lib/oauth/subjects.ts), never by a `sub`
 * that happens to equal `client_id`. The scopes are intersected with the user's and the client's current ones.
 * Every place that accepts an access token asks this, the bearer check (`fastify.authenticate`, so /users/me and
 * every extension route) and introspection alike; the answers come from the read cache (lib/stores/cached.ts),
 * so a steady request costs no database round trip. Undefined means "refuse it".
 */
export async function tokenStanding (claims: AccessTokenClaims, storage: Storage, audience?: string): Promise<Standing | undefined> {
  if (await storage.revocations.anyRevoked(denyEntriesOf(claims))) return undefined
  // A token for a registered resource (RFC 8707; only introspection meets one): it stands while the resource is
  // registered, with the scopes it still defines. Removing a resource ends its tokens.
  let resource: Resource | undefined
  if (audience !== undefined && claims.aud !== audience) {
    resource = await storage.resources.find(claims.aud)
    if (resource === undefined) return undefined
  }
  if (subjectKind(claims) === 'client') {
    if (claims.sub !== claims.client_id) return undefined
    return decide(claims, undefined, await storage.clients.find(claims.client_id), resource) || undefined
  }
  const [user, client] = await Promise.all([
    storage.users.findById(claims.sub),
    // A deleted client's tokens die with it (those from refresh-token grants are also deny-listed).
    claims.client_id === DEFAULT_CLIENT.id ? DEFAULT_CLIENT : storage.clients.find(claims.client_id)
  ])
  return decide(claims, user, client, resource) || undefined
}

/**
 * The same decision, from what the read cache holds right now (lib/stores/cached.ts `CachePeek`), without
 * waiting: a Standing, `false` to refuse, or undefined when the cache does not hold every answer needed
 * (then ask `tokenStanding`). Every check is made, in the same order, on the same answers (`decide`).
 */
export function cachedTokenStanding (claims: AccessTokenClaims, peek: CachePeek): Standing | false | undefined {
  const revoked = peek.anyRevoked(denyEntriesOf(claims))
  if (revoked !== false) return revoked === true ? false : undefined
  if (subjectKind(claims) === 'client') {
    if (claims.sub !== claims.client_id) return false
    const client = peek.client(claims.client_id)
    return client === undefined ? undefined : decide(claims, undefined, client.value)
  }
  const user = peek.user(claims.sub)
  if (user === undefined) return undefined
  let client: Client | undefined = DEFAULT_CLIENT
  if (claims.client_id !== DEFAULT_CLIENT.id) {
    const cached = peek.client(claims.client_id)
    if (cached === undefined) return undefined
    client = cached.value
  }
  return decide(claims, user.value, client)
}

/**
 * The one decision, once the user (for a user's token) and the client are known: the user exists, is enabled
 * and still at the token's credential version; the client exists in the token's generation; the scopes are what
 * still holds of the token's. `false`: refuse it. (Revocation is checked before: `tokenStanding`.)
 */
export function decide (claims: AccessTokenClaims, user: User | undefined, client: Client | undefined, resource?: Resource): Standing | false {
  if (subjectKind(claims) !== 'client' && (!user || user.disabled || user.credentialVersion !== (claims.cred_ver ?? 0))) return false
  if (!client || client.generation !== (claims.client_gen ?? null)) return false
  const held = parseScope(claims.scope)
  // A resource's token: the scopes the resource still defines (the user allowed them for it, held or not).
  const scope = formatScope(resource === undefined ? currentScope(held, user, client) : scopesForResource(held, resource, client))
  return { user, scope: scope === '' ? undefined : scope }
}

/** The claims with the scope the token holds now (`Standing.scope`): what `request.auth` carries and `requireScope` checks. */
export function claimsNow (claims: AccessTokenClaims, standing: Standing): AccessTokenClaims {
  if (standing.scope === claims.scope) return claims
  // A copy: the verified claims are shared by every request with the same token (the verified-token cache).
  const narrowed: AccessTokenClaims = { ...claims }
  if (standing.scope === undefined) delete narrowed.scope
  else narrowed.scope = standing.scope
  return narrowed
}
