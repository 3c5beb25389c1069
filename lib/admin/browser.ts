import type { Clock } from '../clock.js'
import type { Consent, Session, Storage } from '../stores/types.js'
import { findUser } from './users.js'

/** A user's browser sessions and consents, for the admin API and the CLI. Session ids are never shown (only their hash is stored). */
export const toSessionView = (s: Session) => ({ auth_time: s.authTime, created_at: s.createdAt, expires_at: s.expiresAt })
export const toConsentView = (c: Consent) => ({ client_id: c.clientId, scope: c.scope, created_at: c.createdAt, updated_at: c.updatedAt })

export async function listSessions (deps: { storage: Storage, clock: Clock }, username: string) {
  const user = await findUser(deps.storage, username)
  return (await deps.storage.sessions.listForUser(user.id, deps.clock.now())).map(toSessionView)
}

/** Signs the user out of every browser; returns how many sessions ended. */
export async function endSessions (storage: Storage, username: string): Promise<number> {
  const user = await findUser(storage, username)
  return storage.sessions.deleteForUser(user.id)
}

export async function listConsents (storage: Storage, username: string) {
  const user = await findUser(storage, username)
  return (await storage.consents.listForUser(user.id)).map(toConsentView)
}

/** Revokes the user's consent for one client, or for every client (idempotent: none left is done). The consent page is shown again. */
export async function revokeConsents (storage: Storage, username: string, clientId?: string): Promise<number> {
  const user = await findUser(storage, username)
  return storage.consents.revoke(user.id, clientId)
}
