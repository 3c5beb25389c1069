import { isMailAddress } from '../mail/addresses.js'
import { PENDING_SIGNUPS_MAX } from '../limits/table-bounds.js'
import { safeReturnTo } from '../oauth/authorize.js'
import type { PasswordHasher } from '../credentials/passwords.js'
import { ConflictError, type Storage, type User } from '../stores/types.js'
import { USERNAME } from '../../schemas/common.js'
import { MAX_FULL_NAME_LENGTH } from '../admin/users.js'
import { findLink, issueLink, redeemLink } from './links.js'
import { passwordProblem } from './password-policy.js'
import type { SendMail } from './verification.js'

/**
 * Self-service sign-up, with the e-mail proven before the account exists (as Ory Kratos and Supabase do): the form
 * only stores a `signup` link carrying what the account will be (username, full name, the password's hash, the
 * pending /authorize), and mails it; the account is made when the link's owner follows it and presses the button.
 * So an address someone else typed never gets an account, and nobody can hold a username with an address they do
 * not own.
 *
 * Whether an e-mail already has an account is never said on the page (SECURITY-CASES U1; CONTRACT.md, Accounts):
 * the answer is the same page after the same work (a hash, one queued request) either way; who uses the address
 * is looked up only afterwards, when the queued request is answered (plugins/account-requests.ts says why).
 */

/** The sign-up form as typed, before any check. */
export interface SignupForm {
  username: unknown
  email: unknown
  password: unknown
  fullName: unknown
  returnTo: unknown
}

/** A form whose fields passed every check that needs no store. */
export interface SignupRequest {
  username: string
  email: string
  password: string
  fullName: string | null
  /** The pending /authorize path (lib/oauth/authorize.ts safeReturnTo), kept to continue it after the link. */
  returnTo: string | null
}

export type FormCheck =
  | { ok: true, request: SignupRequest }
  | { ok: false, field: 'username' | 'email' | 'password' | 'full_name', message: string }

/**
 * Checks the form's fields: a username as every username is made (lowercase ASCII, schemas/common.ts; the person's
 * capitals are folded, as a username is matched exactly at sign-in), one plain e-mail address, a password by the
 * rules of password-policy.ts, a full name of one line. The message is for the form, naming the field.
 */
export function checkSignupForm (form: SignupForm): FormCheck {
  const text = (value: unknown) => typeof value === 'string' ? value.trim() : ''
  const username = text(form.username).toLowerCase()
  const email = text(form.email)
  const fullName = text(form.fullName)
  const password = typeof form.password === 'string' ? form.password : ''
  if (!USERNAME.test(username)) {
    return { ok: false, field: 'username', message: 'Choose a username of 1 to 64 characters: letters, digits and . _ @ + - (starting with a letter or digit).' }
  }
  if (!isMailAddress(email)) return { ok: false, field: 'email', message: 'Enter one e-mail address, such as name@example.com.' }
  if (fullName.length > MAX_FULL_NAME_LENGTH || [...fullName].some((c) => c < ' ' || c === '\x7f')) {
    return { ok: false, field: 'full_name', message: `Enter a name of at most ${MAX_FULL_NAME_LENGTH} characters, on one line.` }
  }
  const problem = passwordProblem(password, { username, email })
  if (problem !== undefined) return { ok: false, field: 'password', message: problem }
  return { ok: true, request: { username, email, password, fullName: fullName === '' ? null : fullName, returnTo: safeReturnTo(form.returnTo) ?? null } }
}

/** What a sign-up link carries (AccountLink.data). */
export interface SignupData {
  username: string
  fullName: string | null
  passwordHash: string
  returnTo: string | null
}

function signupData (data: Record<string, unknown> | null): SignupData | undefined {
  if (data === null || typeof data.username !== 'string' || typeof data.passwordHash !== 'string') return undefined
  return {
    username: data.username,
    passwordHash: data.passwordHash,
    fullName: typeof data.fullName === 'string' ? data.fullName : null,
    returnTo: typeof data.returnTo === 'string' ? data.returnTo : null
  }
}

/** Whether `username` belongs to a user now (the form says so: CONTRACT.md allows it, unlike an e-mail). */
export async function usernameTaken (storage: Storage, username: string): Promise<boolean> {
  return (await storage.users.findByUsername(username)) !== undefined
}

/** Too many sign-ups wait for their link (PENDING_SIGNUPS_MAX): the page says to try later, whatever the e-mail. */
export class SignupsFullError extends Error {
  override name = 'SignupsFullError'
}

/**
 * A checked sign-up as it waits in the outbox (plugins/account-requests.ts) until it is answered: what the account
 * will be, with the password's hash, never the password.
 */
export interface QueuedSignup extends SignupData {
  email: string
}

export interface SignupRequestDeps {
  storage: Storage
  passwords: Pick<PasswordHasher, 'hash'>
  /** Stores the request for the deferred sender (plugins/account-requests.ts): one outbox row. */
  queue: (signup: QueuedSignup) => Promise<void>
}

/**
 * The part of a sign-up done inside the request, once its username was free: the same work whatever the e-mail
 * (SECURITY-CASES U1). The password is hashed, the bound on waiting sign-ups checked (SignupsFullError past it,
 * before anything is queued), and one request queued: nothing here looks at who uses the address. Whether it
 * has an account, and the link or note that follows, is `answerSignupRequest`'s, after the reply. What `queue`
 * throws (the outbox full) goes to the caller.
 */
export async function requestSignup (deps: SignupRequestDeps, request: SignupRequest, now: number): Promise<void> {
  const passwordHash = await deps.passwords.hash(request.password)
  if (await deps.storage.accountLinks.countPending('signup', now) >= PENDING_SIGNUPS_MAX) throw new SignupsFullError('too many sign-ups are waiting for their link')
  await deps.queue({ email: request.email, username: request.username, fullName: request.fullName, passwordHash, returnTo: request.returnTo })
}

export interface SignupAnswerDeps {
  storage: Storage
  send: SendMail
}

/**
 * Answers a queued sign-up (outside the request that asked). A new e-mail: a `signup` link carrying the account,
 * mailed (template `signup`). A taken one (any user's, case-insensitively): no link, and that address is told it
 * has an account already (template `account-exists`). What `send` throws (the mail outbox full) is thrown after
 * removing the link it made, so the sender tries the request again later. The number of messages queued.
 */
export async function answerSignupRequest (deps: SignupAnswerDeps, signup: QueuedSignup, now: number): Promise<number> {
  const { storage, send } = deps
  const [owner] = await storage.users.findByEmail(signup.email, 1)
  if (owner !== undefined) {
    // The username goes only to this mailbox, and only when it is the owner's proven address: a person who forgot
    // their username is told it; an address an administrator typed for someone else learns nothing.
    await send('account-exists', signup.email, { username: owner.emailVerified ? owner.username : null })
    return 1
  }
  const data: SignupData = { username: signup.username, fullName: signup.fullName, passwordHash: signup.passwordHash, returnTo: signup.returnTo }
  const { token, link } = await issueLink(storage.accountLinks, { purpose: 'signup', userId: null, email: signup.email, data: { ...data }, now })
  try {
    await send('signup', signup.email, { username: signup.username, token })
  } catch (err) {
    await storage.accountLinks.revoke(link.id, 'signup')
    throw err
  }
  return 1
}

export interface PendingSignup {
  username: string
  email: string
  /** The /authorize request it continues (the page's CSP must let its form end up at that client). */
  returnTo: string | null
}

/** The sign-up a link names while it works (the confirmation page), without using it. */
export async function pendingSignup (storage: Storage, token: unknown, now: number): Promise<PendingSignup | undefined> {
  const link = await findLink(storage.accountLinks, token, 'signup', now)
  const data = link && signupData(link.data)
  return data && link?.email ? { username: data.username, email: link.email, returnTo: safeReturnTo(data.returnTo) ?? null } : undefined
}

export type SignupOutcome =
  | { kind: 'created', user: User, returnTo: string | null }
  /** Unknown, used, expired, tampered. */
  | { kind: 'bad_link' }
  /** Another account took the username while the link waited: the link is used up, nothing made. */
  | { kind: 'username_taken' }
  /** Another account has this address now (two sign-ups for one address, both followed): nothing made. */
  | { kind: 'email_taken' }

/**
 * Follows a sign-up link (the confirmation page's button, never a GET: mail scanners fetch links): uses it once,
 * then makes the account it carries, with its address verified (following the link proved it) and the default
 * scopes.
 */
export async function completeSignup (storage: Storage, token: unknown, now: number): Promise<SignupOutcome> {
  const link = await redeemLink(storage.accountLinks, token, 'signup', now)
  const data = link && signupData(link.data)
  if (data === undefined || !link?.email) return { kind: 'bad_link' }
  if ((await storage.users.findByEmail(link.email, 1)).length > 0) return { kind: 'email_taken' }
  try {
    const user = await storage.users.create({
      username: data.username,
      passwordHash: data.passwordHash,
      fullName: data.fullName,
      email: link.email,
      emailVerified: true
    })
    return { kind: 'created', user, returnTo: safeReturnTo(data.returnTo) ?? null }
  } catch (err) {
    if (err instanceof ConflictError) return { kind: 'username_taken' }
    throw err
  }
}
