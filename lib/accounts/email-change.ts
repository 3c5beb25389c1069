import { checkUserInput } from '../admin/users.js'
import type { Throttle } from '../limits/throttle.js'
import { isMailAddress } from '../mail/addresses.js'
import type { AccountLink, Storage, User } from '../stores/types.js'
import { normalizedEmail, takeAccountLimit } from './limits.js'
import { issueLink, redeemLink } from './links.js'
import type { SendMail } from './verification.js'

/**
 * Changing one's e-mail address from the account page (CONTRACT.md, Accounts; SECURITY-CASES U6, ASVS 6.3.7): the
 * new address replaces the old one only once a link mailed to it is followed (24 h, single use, a newer request
 * voids the older link), so a stolen session cannot move the account to an attacker's inbox without that inbox
 * proving itself, and the old address is told twice: when the change is asked for (the owner can act before it
 * happens) and when it is done (it did happen, and a later reset goes to the new address).
 */

export type EmailChangeAsk =
  | { outcome: 'sent', email: string }
  | { outcome: 'refused', message: string }
  | { outcome: 'throttled', retryAfter: number }

export interface EmailChangeDeps {
  storage: Storage
  send: SendMail
  throttle: Throttle
}

/** Why `email` cannot be an account's address (a sentence for the form), or undefined. The store's rule and the mailer's both hold. */
export function emailProblem (email: string): string | undefined {
  try {
    checkUserInput({ email })
  } catch {
    return 'Enter an e-mail address such as name@example.com.'
  }
  return isMailAddress(email) ? undefined : 'Enter an e-mail address such as name@example.com.'
}

/**
 * A signed-in `user` asks for `email` (as typed) from `addressKey` (request.addressKey): checked, counted against
 * the account limits (per address, and per the new address's inbox), then a `change_email` link to the new address
 * and a note to the old one. Nothing about the user changes here.
 */
export async function askEmailChange (deps: EmailChangeDeps, user: User, input: { email: string, addressKey: string, now: number }): Promise<EmailChangeAsk> {
  const email = input.email.trim()
  const problem = emailProblem(email)
  if (problem !== undefined) return { outcome: 'refused', message: problem }
  if (user.email !== null && normalizedEmail(user.email) === normalizedEmail(email)) return { outcome: 'refused', message: 'That is your address already.' }
  const wait = await takeAccountLimit(deps.throttle, 'email_change', input.addressKey, email)
  if (wait !== undefined) return { outcome: 'throttled', retryAfter: wait }
  const { token } = await issueLink(deps.storage.accountLinks, { purpose: 'change_email', userId: user.id, email, now: input.now })
  await deps.send('change-email', email, { username: user.username, token })
  if (user.email !== null) await deps.send('email-change-requested', user.email, { username: user.username, email })
  return { outcome: 'sent', email }
}

/** The address a user asked for and has not proven yet (the account page shows it), if any. */
export async function pendingEmailChange (storage: Storage, user: User, now: number): Promise<string | undefined> {
  return (await storage.accountLinks.pendingForUser(user.id, 'change_email', now))?.email ?? undefined
}

export type EmailChangeResult =
  | { outcome: 'changed', user: User }
  /** Another account took the address since it was asked for: nothing changed (two accounts never share one). */
  | { outcome: 'taken' }

/**
 * Follows a change-of-address link: undefined when `token` is no working `change_email` link (unknown, used,
 * voided, expired) or its user is gone or disabled, which changes nothing. Otherwise the link's address becomes the
 * user's, verified (following the link proved it), and the old address is told.
 */
export async function confirmEmailChange (deps: { storage: Storage, send: SendMail }, token: unknown, now: number): Promise<EmailChangeResult | undefined> {
  const link = await redeemLink(deps.storage.accountLinks, token, 'change_email', now)
  const user = link?.userId == null ? undefined : await deps.storage.users.findById(link.userId)
  if (!link || !user || user.disabled || link.email === null) return undefined
  if (await heldByAnother(deps.storage, link, user)) return { outcome: 'taken' }
  const changed = await deps.storage.users.update(user.username, { email: link.email, emailVerified: true })
  if (!changed) return undefined
  if (user.email !== null && normalizedEmail(user.email) !== normalizedEmail(link.email)) {
    await deps.send('email-changed', user.email, { username: user.username, email: link.email })
  }
  return { outcome: 'changed', user: changed }
}

async function heldByAnother (storage: Storage, link: AccountLink, user: User): Promise<boolean> {
  return (await storage.users.findByEmail(link.email ?? '', 2)).some((other) => other.id !== user.id)
}
