import { endUserSessions, type UserAdminDeps } from '../admin/users.js'
import type { SecurityEvents } from '../ops/events.js'
import { safeReturnTo } from '../oauth/authorize.js'
import type { AccountLink, Storage, User } from '../stores/types.js'
import { findLink, issueLink, redeemLink, sentToCurrentAddress } from './links.js'
import { normalizedEmail } from './limits.js'
import { passwordProblem } from './password-policy.js'
import type { SendMail } from './verification.js'

/**
 * Forgotten passwords (CONTRACT.md, Accounts; SECURITY-CASES U1–U3): who is sent a reset link, and what following
 * it does. The pages (routes/browser/forgot-password.ts, reset-password.ts), the admin API and the CLI all come here.
 */

/** Accounts one address may hold that a request reaches at most (usernames are unique, addresses need not be). */
export const MAX_ACCOUNTS_PER_EMAIL = 10

export interface ResetMailDeps {
  storage: Storage
  send: SendMail
  events: SecurityEvents
}

/**
 * Why `user` cannot be sent a reset link, or undefined when it can: a link needs an address to go to, and a
 * disabled user could not sign in with a new password anyway (nothing is sent: an attacker learns nothing either).
 */
export function resetRefusal (user: User): 'no_email' | 'disabled' | undefined {
  if (user.email === null) return 'no_email'
  if (user.disabled) return 'disabled'
  return undefined
}

/**
 * Issues `user` a reset link (30 min, single use; a newer one voids the older: lib/accounts/links.ts) and queues
 * the message with it, then reports `password_reset_requested`. `returnTo`: the pending /authorize request the
 * person came from, carried in the link's data so the page after the reset can continue it. Undefined when
 * `resetRefusal` refuses the user.
 */
export async function sendPasswordReset (deps: ResetMailDeps, user: User, input: { now: number, ip: string, returnTo?: string | undefined }): Promise<AccountLink | undefined> {
  if (resetRefusal(user) !== undefined || user.email === null) return undefined
  const returnTo = safeReturnTo(input.returnTo)
  const { token, link } = await issueLink(deps.storage.accountLinks, {
    purpose: 'reset_password',
    userId: user.id,
    email: user.email,
    data: returnTo === undefined ? null : { returnTo },
    now: input.now
  })
  await deps.send('reset-password', user.email, { username: user.username, token })
  deps.events.emit({ type: 'password_reset_requested', userId: user.id, ip: input.ip })
  return link
}

/** A /forgot-password request as it waits in the outbox (plugins/account-requests.ts) until it is worked on. */
export interface ResetRequest {
  email: string
  ip: string
  returnTo?: string | undefined
}

/**
 * Works on one /forgot-password request: every enabled account with that address (compared case-insensitively,
 * at most MAX_ACCOUNTS_PER_EMAIL) is sent a link of its own, to the address it holds (never the one typed). An
 * address no account uses gets nothing. The number of links sent.
 */
export async function answerResetRequest (deps: ResetMailDeps, request: ResetRequest, now: number): Promise<number> {
  const users = await deps.storage.users.findByEmail(normalizedEmail(request.email), MAX_ACCOUNTS_PER_EMAIL)
  let sent = 0
  for (const user of users) {
    if (await sendPasswordReset(deps, user, { now, ip: request.ip, returnTo: request.returnTo })) sent++
  }
  return sent
}

export interface OpenReset {
  link: AccountLink
  user: User
  /** The pending /authorize request the reset was asked from, if any (checked again). */
  returnTo: string | undefined
}

/**
 * The reset a token names, if it still works: unused, unvoided, unexpired, for a user who still exists, is not
 * disabled, and still has the address the link was sent to (a link mailed to an address since replaced proves
 * nothing about the account now). Nothing is changed.
 */
export async function openReset (storage: Storage, token: unknown, now: number): Promise<OpenReset | undefined> {
  const link = await findLink(storage.accountLinks, token, 'reset_password', now)
  if (link?.userId == null) return undefined
  const user = await storage.users.findById(link.userId)
  if (!user || user.disabled || !sentToCurrentAddress(link, user)) return undefined
  return { link, user, returnTo: safeReturnTo(link.data?.returnTo) }
}

export type ResetOutcome =
  /** Unknown, tampered, used, voided or expired, or its user changed: the same error for all. */
  | { result: 'bad_link' }
  /** The password breaks a rule (lib/accounts/password-policy.ts): the link is not used up. */
  | { result: 'refused', problem: string, reset: OpenReset }
  | { result: 'changed', user: User, returnTo: string | undefined }

/**
 * Sets a new password through a reset link. The password is checked, then hashed, before the link is used (a
 * refused password, or a hash queue full, leaves the link working); then the link is used in one atomic update
 * (of two posts at once one wins), and the password is set the way an administrator's change sets it: the
 * store's UPDATE moves the credential version on (every access token issued before is refused at once), and
 * lib/admin/users.ts endUserSessions revokes every refresh family and ends every browser session (SECURITY-CASES
 * U3). The address the link went to is marked verified: following the link proved it.
 */
export async function resetPassword (deps: UserAdminDeps, input: { token: unknown, password: string, now: number }): Promise<ResetOutcome> {
  const reset = await openReset(deps.storage, input.token, input.now)
  if (!reset) return { result: 'bad_link' }
  const problem = passwordProblem(input.password, { username: reset.user.username, email: reset.user.email })
  if (problem !== undefined) return { result: 'refused', problem, reset }
  const passwordHash = await deps.passwords.hash(input.password)
  const link = await redeemLink(deps.storage.accountLinks, input.token, 'reset_password', input.now)
  if (!link) return { result: 'bad_link' }
  const user = await deps.storage.users.update(reset.user.username, { passwordHash, emailVerified: true })
  // Deleted since the link was read: nothing was set.
  if (!user) return { result: 'bad_link' }
  await endUserSessions(deps, user.id)
  return { result: 'changed', user, returnTo: reset.returnTo }
}
