import { AdminError } from '../errors.js'
import { isValidScopeList, parseScope, formatScope } from '../oauth/scopes.js'
import { MAX_PASSWORD_LENGTH, type PasswordHasher } from '../passwords.js'
import type { RevokeOptions, Storage, User } from '../stores/types.js'
import { USERNAME_PATTERN } from '../../schemas/common.js'

/**
 * User administration shared by the CLI and the admin API, so both apply the same rules:
 * usernames are lowercase ASCII (no look-alikes, exact match at sign-in), passwords are bounded,
 * and disabling or deleting a user revokes every grant they hold.
 */

const USERNAME = new RegExp(USERNAME_PATTERN)
/** No whitespace and no control characters (U+0000 included, which PostgreSQL text cannot hold). */
const EMAIL = /^[^\s@\u0000-\u001f\u007f]{1,64}@[^\s@\u0000-\u001f\u007f]{1,255}$/

export interface UserInput {
  fullName?: string | null
  email?: string | null
  scope?: string
  disabled?: boolean
}

export function checkUserInput (input: UserInput): void {
  if (input.email !== undefined && input.email !== null && !EMAIL.test(input.email)) throw new AdminError('email: not an email address', 'invalid')
  if (input.scope !== undefined && !isValidScopeList(input.scope)) throw new AdminError('scope: not a space-separated list of scope tokens', 'invalid')
  if (input.fullName !== undefined && input.fullName !== null && (input.fullName.length > 256 || input.fullName.includes('\u0000'))) throw new AdminError('full name: at most 256 characters, no NUL', 'invalid')
}

export function checkPassword (password: string): void {
  if (password.length === 0) throw new AdminError('the password is empty', 'invalid')
  if (password.length > MAX_PASSWORD_LENGTH) throw new AdminError(`the password is longer than ${MAX_PASSWORD_LENGTH} characters`, 'invalid')
}

export async function createUser (storage: Storage, passwords: PasswordHasher, username: string, password: string, input: UserInput = {}): Promise<User> {
  if (!USERNAME.test(username)) throw new AdminError(`username: must match ${USERNAME_PATTERN}`, 'invalid')
  checkUserInput(input)
  checkPassword(password)
  if (await storage.users.findByUsername(username)) throw new AdminError(`user ${username} already exists`, 'conflict')
  try {
    return await storage.users.create({
      username,
      passwordHash: await passwords.hash(password),
      fullName: input.fullName ?? null,
      email: input.email ?? null,
      scope: input.scope === undefined ? '' : formatScope(parseScope(input.scope)),
      disabled: input.disabled ?? false
    })
  } catch (err) {
    if ((err as Error).name === 'ConflictError') throw new AdminError(`user ${username} already exists`, 'conflict')
    throw err
  }
}

export async function updateUser (storage: Storage, username: string, input: UserInput & { passwordHash?: string }, revoke: RevokeOptions): Promise<User> {
  checkUserInput(input)
  const user = await storage.users.update(username, {
    ...input,
    scope: input.scope === undefined ? undefined : formatScope(parseScope(input.scope))
  })
  if (!user) throw new AdminError(`no user ${username}`, 'not_found')
  // Disabling ends every session; enabling later must not bring the old tokens back.
  if (input.disabled === true || input.passwordHash !== undefined) await storage.grants.revokeForUser(user.id, revoke)
  return user
}

export async function deleteUser (storage: Storage, username: string, revoke: RevokeOptions): Promise<User> {
  const user = await storage.users.delete(username)
  if (!user) throw new AdminError(`no user ${username}`, 'not_found')
  await storage.grants.revokeForUser(user.id, revoke)
  return user
}
