import { randomBytes } from 'node:crypto'
import { conflict, invalidInput, notFound } from '../errors.js'
import { isValidScopeList, parseScope, formatScope } from '../oauth/scopes.js'
import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import { revokeOptions } from '../stores/deny-list.js'
import type { PasswordHasher } from '../credentials/passwords.js'
import { endsSessions } from '../stores/rows.js'
import type { Storage, User } from '../stores/types.js'
import { MAX_PASSWORD_LENGTH, USERNAME, USERNAME_PATTERN } from '../../schemas/common.js'
import type { UserViewBody } from '../../schemas/users.js'
import { checkUserClaims, claimsView } from './user-claims.js'

/**
 * User administration shared by the CLI and the admin API, so both apply the same rules:
 * usernames are lowercase ASCII (no look-alikes, exact match at sign-in), passwords are bounded,
 * and disabling or deleting a user revokes every grant they hold.
 */

/** The longest full name a user may have (as the admin API's NullableString, schemas/common.ts). */
export const MAX_FULL_NAME_LENGTH = 256

/** Whether a full name may be stored: at most MAX_FULL_NAME_LENGTH characters, no NUL (the admin API, the account page, invitations). */
export const fullNameAllowed = (name: string): boolean => name.length <= MAX_FULL_NAME_LENGTH && !name.includes('\u0000')

/** No whitespace and no control characters (U+0000 included, which PostgreSQL text cannot hold). */
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const EMAIL = /^[^\s@\u0000-\u001f\u007f]{1,64}@[^\s@\u0000-\u001f\u007f]{1,255}$/

export interface UserInput {
  fullName?: string | null
  email?: string | null
  scope?: string
  disabled?: boolean
  /** The standard claims (lib/admin/user-claims.ts); in an update, the whole new set ({} clears them). */
  claims?: unknown
}

export function checkUserInput (input: UserInput): void {
  if (input.email !== undefined && input.email !== null && !EMAIL.test(input.email)) throw invalidInput('email: not an email address')
  if (input.scope !== undefined && !isValidScopeList(input.scope)) throw invalidInput('scope: not a space-separated list of scope tokens')
  if (input.fullName !== undefined && input.fullName !== null && !fullNameAllowed(input.fullName)) throw invalidInput('full name: at most 256 characters, no NUL')
}

export function checkPassword (password: string): void {
  if (password.length === 0) throw invalidInput('the password is empty')
  if (password.length > MAX_PASSWORD_LENGTH) throw invalidInput(`the password is longer than ${MAX_PASSWORD_LENGTH} characters`)
}

export async function createUser (storage: Storage, passwords: PasswordHasher, username: string, password: string, input: UserInput = {}): Promise<User> {
  if (!USERNAME.test(username)) throw invalidInput(`username: must match ${USERNAME_PATTERN}`)
  checkUserInput(input)
  const claims = input.claims === undefined ? {} : checkUserClaims(input.claims)
  checkPassword(password)
  if (await storage.users.findByUsername(username)) throw conflict(`user ${username} already exists`)
  try {
    return await storage.users.create({
      username,
      passwordHash: await passwords.hash(password),
      fullName: input.fullName ?? null,
      email: input.email ?? null,
      scope: input.scope === undefined ? '' : formatScope(parseScope(input.scope)),
      disabled: input.disabled ?? false,
      claims
    })
  } catch (err) {
    if ((err as Error).name === 'ConflictError') throw conflict(`user ${username} already exists`)
    throw err
  }
}

/** The scope that makes a user an administrator (the admin API, the console). */
export const ADMIN_SCOPE = 'admin'

/** Whether any user, enabled or not, holds the admin scope. */
export async function hasAdmin (storage: Storage): Promise<boolean> {
  return (await storage.users.scopeLists()).some((list) => parseScope(list).includes(ADMIN_SCOPE))
}

/**
 * `gatehouse init`: the first administrator, with a generated password (24 characters, 144 random bits) that is
 * returned once and stored only as its hash. Refused (409) as soon as any user holds the admin scope, disabled
 * ones included: it makes the first admin, never a second one (`users add --scope admin` does that, on purpose).
 */
export async function createFirstAdmin (storage: Storage, passwords: PasswordHasher, username: string): Promise<{ user: User, password: string }> {
  if (await hasAdmin(storage)) {
    throw conflict(`an admin user already exists: init only makes the first one (another: gatehouse users add NAME --password-stdin --scope ${ADMIN_SCOPE})`)
  }
  const password = randomBytes(18).toString('base64url')
  const user = await createUser(storage, passwords, username, password, { scope: ADMIN_SCOPE })
  return { user, password }
}

/** What changing or removing a user needs: the store, the hasher for a new password, and the time (revocations). */
export interface UserAdminDeps {
  storage: Storage
  passwords: PasswordHasher
  clock: Clock
  config: Pick<Config, 'accessTokenTtl'>
}

/** Changes a user; a new password (hashed here) or disabling revokes every grant they hold. */
export async function updateUser (deps: UserAdminDeps, username: string, input: UserInput & { password?: string }): Promise<User> {
  const { password, claims, ...fields } = input
  checkUserInput(fields)
  const checkedClaims = claims === undefined ? undefined : checkUserClaims(claims)
  let passwordHash: string | undefined
  if (password !== undefined) {
    checkPassword(password)
    passwordHash = await deps.passwords.hash(password)
  }
  // A changed address is not verified (unless the new claims say so): it must be proven again.
  const emailChanged = fields.email !== undefined && fields.email !== (await deps.storage.users.findByUsername(username))?.email
  const user = await deps.storage.users.update(username, {
    ...fields,
    passwordHash,
    claims: checkedClaims,
    emailVerified: checkedClaims === undefined && emailChanged ? false : undefined,
    scope: fields.scope === undefined ? undefined : formatScope(parseScope(fields.scope))
  })
  if (!user) throw notFound(`no user ${username.slice(0, 64)}`)
  if (endsSessions({ disabled: fields.disabled, passwordHash })) await endUserSessions(deps, user.id)
  return user
}

/**
 * What follows every change that must end a user's sessions (a new password, disabling, deletion; an import
 * with a new hash or `disabled: true` too): the one code path for the admin API, the CLI and the import. The
 * store has already moved the user's credential version on in the change's own UPDATE (so a sign-in in flight
 * can start no family, session or code any more, and its access token is refused); here the refresh families
 * already started are revoked, and every browser session is ended: a new password must be entered everywhere.
 * Enabling later brings none of them back.
 */
export async function endUserSessions (deps: Omit<UserAdminDeps, 'passwords'>, userId: string): Promise<void> {
  await deps.storage.grants.revokeForUser(userId, revokeOptions(deps.clock.now(), deps.config.accessTokenTtl))
  await deps.storage.sessions.deleteForUser(userId)
}

export async function deleteUser (deps: Omit<UserAdminDeps, 'passwords'>, username: string): Promise<User> {
  // The store leaves a tombstone, so a user restored under this sub (an import of an export) starts above the
  // credential version every token of this one carries.
  const user = await deps.storage.users.delete(username)
  if (!user) throw notFound(`no user ${username.slice(0, 64)}`)
  await endUserSessions(deps, user.id)
  await deps.storage.consents.revoke(user.id)
  return user
}

/** A user by name, or 404. */
export async function findUser (storage: Storage, username: string): Promise<User> {
  const user = await storage.users.findByUsername(username)
  if (!user) throw notFound(`no user ${username.slice(0, 64)}`)
  return user
}

/** A user as the API and the CLI show it (schemas/users.ts UserView): never the password hash. */
export function toUserView (user: User): UserViewBody {
  return { sub: user.id, username: user.username, full_name: user.fullName, email: user.email, disabled: user.disabled, scope: user.scope, claims: claimsView(user) }
}

/** A user as the admin API and `users list` show it: the view above, and who created it. */
export function toAdminUserView (user: User): UserViewBody {
  return { ...toUserView(user), created_by: user.createdBy }
}
