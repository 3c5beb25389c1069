import { notFound } from '../errors.js'
import type { EventLog, SecurityEvents } from '../ops/events.js'
import type { FactorKind, Storage, UserFactor } from '../stores/types.js'
import { findUser } from './users.js'

/**
 * A user's second factors for administrators (GET /admin/users/{username}/factors, `gatehouse users factors`):
 * what they are and when they were used, never the TOTP secret, the passkey's public key or credential id.
 */
export interface FactorView {
  id: string
  kind: FactorKind
  name: string
  created_at: number
  /** False for an authenticator app whose first code never came (an abandoned enrolment: it does not count). */
  confirmed: boolean
  last_used_at: number | null
  /** Passkeys only, as the authenticator said at registration: `singleDevice` or `multiDevice` (synced). */
  device_type?: string | null
  /** Passkeys only: whether the passkey is backed up (synced to the user's other devices). */
  backed_up?: boolean | null
}

export interface FactorsView {
  factors: FactorView[]
  recovery_codes_left: number
}

/** `log`: the request's logger, so the factors_reset event carries its reqId. */
export interface FactorDeps { storage: Storage, events: SecurityEvents, log?: EventLog }

export function toFactorView (f: UserFactor): FactorView {
  const view: FactorView = { id: f.id, kind: f.kind, name: f.name, created_at: f.createdAt, confirmed: f.confirmedAt !== null, last_used_at: f.lastUsedAt }
  if (f.kind === 'passkey') {
    // `data` is what the passkey branch chose to keep (JSON): only these two facts are shown, and only when well-typed.
    const { deviceType, backedUp } = f.data ?? {}
    view.device_type = typeof deviceType === 'string' ? deviceType : null
    view.backed_up = typeof backedUp === 'boolean' ? backedUp : null
  }
  return view
}

export async function listFactors (storage: Storage, username: string): Promise<FactorsView> {
  const user = await findUser(storage, username)
  const [factors, left] = await Promise.all([storage.factors.list(user.id), storage.factors.recoveryCodesLeft(user.id)])
  return { factors: factors.map(toFactorView), recovery_codes_left: left }
}

/**
 * Removes every factor and recovery code of the user: they sign in with their password alone, and enrol again
 * where a second factor is required. Their browser sessions are kept (as Keycloak keeps them when an
 * administrator deletes a credential): the reset is for a user locked out, who has none worth ending; end them
 * with DELETE …/sessions when a factor was stolen. Returns what was removed (listed just before).
 */
/** `actor`: who removed them, for the factors_reset event (the admin token's subject; `(cli)` from the CLI). */
export async function resetFactors (deps: FactorDeps, username: string, actor: string): Promise<{ removed: FactorView[], recovery_codes_removed: number }> {
  const user = await findUser(deps.storage, username)
  const [factors, codes] = await Promise.all([deps.storage.factors.list(user.id), deps.storage.factors.recoveryCodesLeft(user.id)])
  const count = await deps.storage.factors.removeAll(user.id)
  deps.events.emit({ type: 'factors_reset', actor, userId: user.id, scope: 'all', count }, deps.log)
  return { removed: factors.map(toFactorView), recovery_codes_removed: codes }
}

/** Removes one factor of the user by its id (404 when the user has none with it). Recovery codes stay. */
export async function removeFactor (deps: FactorDeps, username: string, id: string, actor: string): Promise<void> {
  const user = await findUser(deps.storage, username)
  if (!await deps.storage.factors.remove(user.id, id)) throw notFound(`${user.username} has no factor ${id.slice(0, 64)}`)
  deps.events.emit({ type: 'factors_reset', actor, userId: user.id, scope: 'one', count: 1 }, deps.log)
}
