import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import { isUnusablePassword } from '../credentials/passwords.js'
import { revokeOptions } from '../stores/deny-list.js'
import type { Storage, User } from '../stores/types.js'

/**
 * What the account page lets a signed-in user take back: their other sessions, an app's access, a linked
 * provider account. Each acts on the user's own rows only (every lookup is by the user's id).
 */

/**
 * Ends every session of the user but `keepIdHash` (the browser asking); the number ended. Each ends through the
 * session store, which queues the back-channel logout of its clients in the same transaction.
 */
export async function endOtherSessions (storage: Storage, userId: string, keepIdHash: string, now: number): Promise<number> {
  let ended = 0
  for (const session of await storage.sessions.listForUser(userId, now)) {
    if (session.idHash !== keepIdHash && await storage.sessions.delete(session.idHash)) ended++
  }
  return ended
}

/**
 * Ends one of the user's sessions named by its `sid` (the page never shows a cookie or its digest); false when the
 * user has no live session of that sid.
 */
export async function endSessionBySid (storage: Storage, userId: string, sid: string, now: number): Promise<boolean> {
  const session = (await storage.sessions.listForUser(userId, now)).find((s) => s.sid === sid)
  return session !== undefined && await storage.sessions.delete(session.idHash)
}

/**
 * Revokes an app: the user's consent for the client (its consent page shows again) and every grant it holds for
 * the user (its refresh tokens stop working, and its access tokens go on the deny-list by their grant). The number
 * of grants revoked; 0 and no consent is not an error (nothing to do).
 */
export async function revokeApp (deps: { storage: Storage, clock: Clock, config: Pick<Config, 'accessTokenTtl'> }, userId: string, clientId: string): Promise<{ consents: number, grants: number }> {
  const consents = await deps.storage.consents.revoke(userId, clientId)
  const grants = await deps.storage.grants.revokeForUser(userId, revokeOptions(deps.clock.now(), deps.config.accessTokenTtl), clientId)
  return { consents, grants: grants.length }
}

/** Whether the user can sign in with a password (an upstream-created user holds one no password matches). */
export const hasPassword = (user: Pick<User, 'passwordHash'>): boolean => user.passwordHash !== null && !isUnusablePassword(user.passwordHash)

export type Unlink = 'unlinked' | 'not_linked' | 'only_way'

/**
 * Unlinks the user's account at `provider`, unless it is their only way to sign in (no password and no other
 * provider linked): a user must never lock themselves out.
 */
export async function unlinkProvider (storage: Storage, user: User, provider: string): Promise<Unlink> {
  const identities = await storage.identities.listForUser(user.id)
  if (!identities.some((i) => i.provider === provider)) return 'not_linked'
  if (!hasPassword(user) && !identities.some((i) => i.provider !== provider)) return 'only_way'
  return await storage.identities.unlink(user.id, provider) > 0 ? 'unlinked' : 'not_linked'
}
