import { issueLink, redeemLink, sentToCurrentAddress } from './links.js'
import type { Storage, User } from '../stores/types.js'

/** What sends a message (plugins/mail.ts `mail.send`). */
export type SendMail = (kind: string, to: string, data?: Record<string, unknown>) => Promise<string>

/**
 * Sends `user` a link to prove their address (24 h, single use; a newer link voids older ones). Nothing is sent to
 * a user without an address, or whose address is already verified.
 */
export async function sendVerification (deps: { storage: Storage, send: SendMail }, user: User, now: number): Promise<boolean> {
  if (user.email === null || user.emailVerified) return false
  const { token } = await issueLink(deps.storage.accountLinks, { purpose: 'verify_email', userId: user.id, email: user.email, now })
  await deps.send('verify-email', user.email, { username: user.username, token })
  return true
}

/**
 * Follows a verification link: the user it names when this call used it and the address it was sent to is still
 * the user's (a link for an address changed since proves nothing about the new one); undefined for every other
 * link (unknown, tampered, used, voided, expired), which changes nothing.
 */
export async function verifyEmail (storage: Storage, token: unknown, now: number): Promise<User | undefined> {
  const link = await redeemLink(storage.accountLinks, token, 'verify_email', now)
  if (link?.userId == null) return undefined
  const user = await storage.users.findById(link.userId)
  if (!user || !sentToCurrentAddress(link, user)) return undefined
  if (user.emailVerified) return user
  return storage.users.update(user.username, { emailVerified: true })
}
