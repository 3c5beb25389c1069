import { invite, INVITATIONS_LISTED, toInvitationView, type InvitationView } from '../accounts/invitations.js'
import type { SendMail } from '../accounts/verification.js'
import { accountLimits } from '../accounts/limits.js'
import { notFound, tooManyRequests } from '../errors.js'
import type { Throttle } from '../limits/throttle.js'
import type { EventLog, SecurityEvents } from '../ops/events.js'
import type { Storage } from '../stores/types.js'

/**
 * Invitations as an administrator sends them (POST /admin/invitations and the console's invitations page): the
 * rules of the invitation itself are lib/accounts/invitations.ts; what an administrator's invitation adds is here,
 * in one place for both: the per-address message limit, the invitation_sent event, revoke's not-found.
 */

export interface AdminInviteDeps {
  storage: Storage
  send: SendMail
  throttle: Throttle
  events: SecurityEvents
  now: number
  /** The request's logger, so the invitation_sent event carries its reqId. */
  log?: EventLog
}

/** Who sends it: the administrator (the admin token's user or subject, or the console's user) and their client address key. */
export interface Inviter { actor: string, addressKey: string }

/**
 * Invites `email` for `inviter`. First the per-address message limit every message counts against
 * (lib/accounts/limits.ts): an administrator's token (or console) in a loop cannot flood one inbox (429). Not the
 * per-client-address one: inviting a team is many invitations. Then lib/accounts/invitations.ts `invite` (400 for a
 * bad address or scope, 409 when a user has the address), and the invitation_sent event.
 */
export async function adminInvite (deps: AdminInviteDeps, inviter: Inviter, input: { email: string, scope?: string | undefined }): Promise<InvitationView> {
  const wait = await deps.throttle.take(accountLimits('invitation', inviter.addressKey, input.email).filter((l) => l.kind === 'request'))
  if (wait !== undefined) throw tooManyRequests(wait, 'this address was sent too many messages in the last hour; try again later')
  const link = await invite({ storage: deps.storage, send: deps.send, now: deps.now }, input)
  deps.events.emit({ type: 'invitation_sent', actor: inviter.actor, invitationId: link.id }, deps.log)
  return toInvitationView(link)
}

/** The pending invitations (neither accepted, revoked nor expired), newest first, at most INVITATIONS_LISTED. */
export async function listInvitations (storage: Storage, now: number): Promise<InvitationView[]> {
  return (await storage.accountLinks.listPending('invitation', now, INVITATIONS_LISTED)).map(toInvitationView)
}

/** Revokes a pending invitation: its link stops working at once. 404 when no pending invitation has this id. */
export async function revokeInvitation (storage: Storage, id: string): Promise<void> {
  if (!await storage.accountLinks.revoke(id, 'invitation')) throw notFound('no pending invitation with this id')
}
