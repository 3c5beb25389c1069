import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import { updateUser } from '../admin/users.js'
import { OAuthError } from '../errors.js'
import { signIn, type SignInDeps } from '../oauth/sign-in.js'
import type { User } from '../stores/types.js'
import { passwordProblem } from './password-policy.js'

/**
 * Changing one's password on the account page. The current password is checked exactly as a sign-in checks it
 * (lib/oauth/sign-in.ts: the brute-force limits are reserved first, so a stolen session cannot guess it faster than
 * the login page could, and a wrong one counts), the new one is held to the rules people's passwords follow
 * (password-policy.ts), and it is set through the path an administrator's change takes (lib/admin/users.ts
 * updateUser): the credential version moves on, every refresh family is revoked and every session ends, so tokens
 * issued before are refused. The caller then signs this browser in again (it just proved the password).
 */

export type PasswordChange =
  | { outcome: 'changed', user: User }
  | { outcome: 'refused', message: string }
  | { outcome: 'wrong' }
  | { outcome: 'throttled', retryAfter: number }

export interface PasswordChangeDeps extends SignInDeps {
  clock: Clock
  config: Pick<Config, 'accessTokenTtl'>
}

export interface PasswordChangeInput {
  current: string
  next: string
  /** The optional second entry of the new password. */
  confirmation?: string | undefined
  clientIp: string
  addressKey: string
}

/** The client id sign-in events name for the account page (it is no OAuth client). */
export const ACCOUNT_PAGE_CLIENT = '(account page)'

export async function changePassword (deps: PasswordChangeDeps, user: User, input: PasswordChangeInput): Promise<PasswordChange> {
  if (input.current === '') return { outcome: 'refused', message: 'Enter your current password.' }
  if (input.confirmation !== undefined && input.confirmation !== input.next) return { outcome: 'refused', message: 'The two new passwords are not the same.' }
  // Checked before the current one: a new password that cannot be chosen costs no hash and no attempt.
  const problem = passwordProblem(input.next, { username: user.username, email: user.email })
  if (problem !== undefined) return { outcome: 'refused', message: problem }
  const checked = await confirmPassword(deps, user, { password: input.current, clientIp: input.clientIp, addressKey: input.addressKey })
  if (checked.outcome !== 'right') return checked
  return { outcome: 'changed', user: await updateUser(deps, user.username, { password: input.next }) }
}

export type PasswordCheck = { outcome: 'right' } | { outcome: 'wrong' } | { outcome: 'throttled', retryAfter: number }

/**
 * The signed-in user's current password, asked again before a change that matters (a new password, removing a second
 * factor): checked exactly as a sign-in checks it, so a stolen session guesses it no faster than the login page.
 */
export async function confirmPassword (deps: SignInDeps, user: User, input: { password: string, clientIp: string, addressKey: string }): Promise<PasswordCheck> {
  if (input.password === '') return { outcome: 'wrong' }
  let checked: User
  try {
    checked = await signIn(deps, { username: user.username, password: input.password, clientIp: input.clientIp, addressKey: input.addressKey, clientId: ACCOUNT_PAGE_CLIENT })
  } catch (err) {
    if (err instanceof OAuthError && err.error === 'invalid_grant') return { outcome: 'wrong' }
    if (err instanceof OAuthError && err.error === 'too_many_requests') return { outcome: 'throttled', retryAfter: Number(err.headers['retry-after'] ?? 60) }
    throw err
  }
  return checked.id === user.id ? { outcome: 'right' } : { outcome: 'wrong' }
}
