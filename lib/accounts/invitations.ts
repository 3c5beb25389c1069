import { checkUserInput, fullNameAllowed } from '../admin/users.js'
import { conflict, invalidInput } from '../errors.js'
import type { PasswordHasher } from '../credentials/passwords.js'
import { isMailAddress } from '../mail/addresses.js'
import { formatScope, parseScope } from '../oauth/scopes.js'
import type { AccountLink, Storage, User } from '../stores/types.js'
import { USERNAME } from '../../schemas/common.js'
import { issueLink, redeemLink } from './links.js'
import { passwordProblem } from './password-policy.js'
import type { SendMail } from './verification.js'

/**
 * Invitations (CONTRACT.md, Accounts): an administrator invites an e-mail address; the person follows the mailed
 * link (`<ISSUER>/invitation?token=…`, single use, 7 days: lib/accounts/links.ts), picks a username and a password,
 * and has an account whose address is verified (the link proved it) with the scopes the invitation named. Works
 * whatever SIGNUP says: the administrator decided who gets in.
 */

/** How many pending invitations a listing shows (newest first). */
export const INVITATIONS_LISTED = 1000

/** What the administrator sees of an invitation: never its token (that is in the message only). */
export interface InvitationView { id: string, email: string, scope: string, created_at: number, expires_at: number }

export function toInvitationView (link: AccountLink): InvitationView {
  return { id: link.id, email: link.email ?? '', scope: link.scope ?? '', created_at: link.createdAt, expires_at: link.expiresAt }
}

/** The refusal of an invitation (or its acceptance) for an address a user already has: as Keycloak answers. */
const EMAIL_TAKEN = 'a user has this e-mail'

/** Whether a user has `email` (case-insensitively): no invitation for it, and no account made from one. */
export async function addressTaken (storage: Storage, email: string): Promise<boolean> {
  return (await storage.users.findByEmail(email, 1)).length > 0
}

const sameAddress = (a: string | null, b: string) => a !== null && a.toLowerCase() === b.toLowerCase()

export interface InviteDeps { storage: Storage, send: SendMail, now: number }

/**
 * Invites `email`: a link stored as a digest, the message queued with the token in it. Refused (409) when a user
 * has that address already: they sign in, or reset their password. A newer invitation to the same address replaces
 * the pending ones (their links stop working), so one address never holds two ways in. When the message cannot be
 * queued, the new link is withdrawn and the older ones are kept.
 */
export async function invite (deps: InviteDeps, input: { email: string, scope?: string | undefined }): Promise<AccountLink> {
  const { storage, now } = deps
  const { email } = input
  checkUserInput({ email, scope: input.scope })
  if (!isMailAddress(email)) throw invalidInput('email: not an address a message can be sent to')
  if (await addressTaken(storage, email)) throw conflict(EMAIL_TAKEN)
  const scope = input.scope === undefined ? null : formatScope(parseScope(input.scope))
  const older = (await storage.accountLinks.listPending('invitation', now, INVITATIONS_LISTED)).filter((l) => sameAddress(l.email, email))
  const { token, link } = await issueLink(storage.accountLinks, { purpose: 'invitation', userId: null, email, scope, now })
  try {
    await deps.send('invitation', email, { token })
  } catch (err) {
    await storage.accountLinks.revoke(link.id, 'invitation')
    throw err
  }
  for (const old of older) await storage.accountLinks.revoke(old.id, 'invitation')
  return link
}

/** What the person enters on the invitation page. */
export interface AccountChoice {
  username: string
  password: string
  /** Absent when the form has no confirmation field (a script, a password manager). */
  passwordConfirmation?: string | undefined
  fullName?: string | undefined
}

/**
 * Why the choices cannot make an account, in words for the form, or undefined. Checked before the link is used,
 * so a taken username or a weak password costs nothing: the form comes back and the link still works.
 */
export async function choiceProblem (storage: Storage, choice: AccountChoice, email: string): Promise<string | undefined> {
  const { username, password } = choice
  if (!USERNAME.test(username)) return 'Choose a username of 1 to 64 lowercase letters, digits and . _ @ + - (starting with a letter or digit).'
  if (await storage.users.findByUsername(username)) return 'This username is taken. Choose another.'
  const weak = passwordProblem(password, { username, email })
  if (weak !== undefined) return weak
  if (choice.passwordConfirmation !== undefined && choice.passwordConfirmation !== password) return 'The two passwords differ. Enter the same password twice.'
  if (choice.fullName !== undefined && !fullNameAllowed(choice.fullName)) return 'Enter a full name of at most 256 characters.'
  return undefined
}

/** Why an accepted invitation made no account: the link was not usable, or a user got the username or address first. */
export type AcceptRefusal = 'link' | 'username_taken' | 'email_taken'

export type AcceptOutcome = { user: User, link: AccountLink } | { refused: AcceptRefusal }

export interface AcceptDeps { storage: Storage, passwords: PasswordHasher, now: number }

/**
 * Makes the account of an invitation whose choices passed `choiceProblem`. The password is hashed before the
 * link is used (a full hash queue refuses with the link intact); then the link is used once (of two posts at once,
 * one wins) and the user is created with the invited, now verified, address and the invitation's scopes. A user
 * who took the address or the username between the form and here leaves the link used: the person asks for a new
 * invitation (the page says so).
 */
export async function acceptInvitation (deps: AcceptDeps, token: unknown, choice: AccountChoice): Promise<AcceptOutcome> {
  const { storage, passwords, now } = deps
  const passwordHash = await passwords.hash(choice.password)
  const link = await redeemLink(storage.accountLinks, token, 'invitation', now)
  if (link?.email == null) return { refused: 'link' }
  if (await addressTaken(storage, link.email)) return { refused: 'email_taken' }
  try {
    const user = await storage.users.create({
      username: choice.username,
      passwordHash,
      fullName: choice.fullName === undefined || choice.fullName.trim() === '' ? null : choice.fullName.trim(),
      email: link.email,
      emailVerified: true,
      scope: link.scope ?? ''
    })
    return { user, link }
  } catch (err) {
    if ((err as Error).name === 'ConflictError') return { refused: 'username_taken' }
    throw err
  }
}
