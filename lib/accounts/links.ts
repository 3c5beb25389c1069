import { randomBytes, randomUUID } from 'node:crypto'
import { digest } from '../credentials/digest.js'
import type { AccountLink, AccountLinkPurpose, AccountLinkStore, User } from '../stores/types.js'

/**
 * Single-use account links: the one home of their lifetimes and of how their tokens are made, stored and redeemed.
 * A token is 256 random bits (base64url) handed out once, in the link; the store keeps only its SHA-256.
 */

/**
 * How long a link works, by purpose (CONTRACT.md, Accounts): 24 h to verify an e-mail (a new one, a sign-up's, a
 * changed one), 30 min to reset a password, 7 days for an invitation.
 */
export const LINK_LIFETIME_SECONDS: Record<AccountLinkPurpose, number> = {
  verify_email: 24 * 3600,
  signup: 24 * 3600,
  change_email: 24 * 3600,
  reset_password: 30 * 60,
  invitation: 7 * 24 * 3600
}

/** What a token looks like: 43 base64url characters (32 bytes). Anything else is refused before any lookup. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/

export interface IssueInput {
  purpose: AccountLinkPurpose
  userId: string | null
  email: string | null
  scope?: string | null
  /** What the link carries (AccountLink.data). */
  data?: Record<string, unknown> | null
  now: number
}

export interface IssuedLink {
  /** The token, for the link only: never stored, never logged. */
  token: string
  link: AccountLink
}

/**
 * Makes and stores a link. A new password-reset link voids the user's older unused ones (only the newest works:
 * SECURITY-CASES U2); a new verification link voids older ones too (only the address asked last is proven).
 */
export async function issueLink (store: AccountLinkStore, input: IssueInput): Promise<IssuedLink> {
  const token = randomBytes(32).toString('base64url')
  const row: Omit<AccountLink, 'usedAt'> = {
    id: randomUUID(),
    tokenHash: digest(token),
    purpose: input.purpose,
    userId: input.userId,
    email: input.email,
    scope: input.scope ?? null,
    data: input.data ?? null,
    createdAt: input.now,
    expiresAt: input.now + LINK_LIFETIME_SECONDS[input.purpose]
  }
  await store.create(row, { voidOlder: input.purpose !== 'invitation' })
  return { token, link: { ...row, usedAt: null } }
}

/** Whether a value from a request can be a token at all (a malformed one is the same "bad link" as an unknown one). */
export function isLinkToken (value: unknown): value is string {
  return typeof value === 'string' && TOKEN.test(value)
}

/** The link a token names, if it works now (for a page that shows a form before the link is used). */
export async function findLink (store: AccountLinkStore, token: unknown, purpose: AccountLinkPurpose, now: number): Promise<AccountLink | undefined> {
  return isLinkToken(token) ? store.find(digest(token), purpose, now) : undefined
}

/** Uses the link once: the link when this call used it; undefined when it is unknown, of another purpose, used, voided or expired. */
export async function redeemLink (store: AccountLinkStore, token: unknown, purpose: AccountLinkPurpose, now: number): Promise<AccountLink | undefined> {
  return isLinkToken(token) ? store.consume(digest(token), purpose, now) : undefined
}

/**
 * Whether the address a link was sent to is still `user`'s (compared case-insensitively): a link mailed to an address
 * since replaced proves nothing about the account now (a verification, a password reset).
 */
export function sentToCurrentAddress (link: AccountLink, user: User): boolean {
  return user.email !== null && link.email !== null && link.email.toLowerCase() === user.email.toLowerCase()
}
