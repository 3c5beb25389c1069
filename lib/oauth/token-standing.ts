import type { CachePeek } from '../stores/cached.js'
import type { Storage, User } from '../stores/types.js'
import type { AccessTokenClaims } from './access-tokens.js'
import { DEFAULT_CLIENT } from './client-auth.js'
import { denyEntriesOf } from './revocation.js'

/** A usable token: the user it acts for (undefined for a client's own client_credentials token). */
export interface Standing {
  user: User | undefined
}

/**
 * Whether a token whose signature and claims are valid may still be used now: not revoked (itself or its
 * grant), its user still there and enabled, its client still there. Every place that accepts an access
 * token asks this, the bearer check (`fastify.authenticate`, so /users/me and every extension route)
 * and introspection alike; the answers come from the read cache (lib/stores/cached.ts), so a steady
 * request costs no database round trip. Undefined means "refuse it".
 */
export async function tokenStanding (claims: AccessTokenClaims, storage: Storage): Promise<Standing | undefined> {
  if (await storage.revocations.anyRevoked(denyEntriesOf(claims))) return undefined
  if (claims.sub === claims.client_id) {
    // A client's own token (client_credentials): valid while the client exists.
    return (await storage.clients.find(claims.client_id)) ? CLIENT_STANDING : undefined
  }
  const [user, clientExists] = await Promise.all([
    storage.users.findById(claims.sub),
    // A deleted client's tokens die with it (those from refresh-token grants are also deny-listed).
    claims.client_id === DEFAULT_CLIENT.id ? true : storage.clients.find(claims.client_id).then(Boolean)
  ])
  return userStanding(user, clientExists) || undefined
}

/**
 * The same decision, from what the read cache holds right now (lib/stores/cached.ts `CachePeek`), without
 * waiting: a Standing, `false` to refuse, or undefined when the cache does not hold every answer needed
 * (then ask `tokenStanding`). Every check is made, in the same order, on the same answers.
 */
export function cachedTokenStanding (claims: AccessTokenClaims, peek: CachePeek): Standing | false | undefined {
  const revoked = peek.anyRevoked(denyEntriesOf(claims))
  if (revoked !== false) return revoked === true ? false : undefined
  if (claims.sub === claims.client_id) {
    const client = peek.client(claims.client_id)
    return client === undefined ? undefined : client.value ? CLIENT_STANDING : false
  }
  const user = peek.user(claims.sub)
  if (user === undefined) return undefined
  let clientExists = true
  if (claims.client_id !== DEFAULT_CLIENT.id) {
    const client = peek.client(claims.client_id)
    if (client === undefined) return undefined
    clientExists = Boolean(client.value)
  }
  return userStanding(user.value, clientExists)
}

const CLIENT_STANDING: Standing = Object.freeze({ user: undefined })

/** A user's token stands while the user exists, is enabled, and the token's client exists. */
const userStanding = (user: User | undefined, clientExists: boolean): Standing | false =>
  user !== undefined && !user.disabled && clientExists ? { user } : false
