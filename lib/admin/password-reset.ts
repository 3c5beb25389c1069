import { resetRefusal, sendPasswordReset, type ResetMailDeps } from '../accounts/password-reset.js'
import { conflict } from '../errors.js'
import { findUser } from './users.js'

/** What the admin API and the CLI answer: where the link went, and until when it works (Unix seconds). */
export interface ResetSent { email: string, expires_at: number }

/**
 * An administrator sends a user a password-reset link (as /forgot-password would, to the address the user holds):
 * the admin API's POST /admin/users/{username}/reset-password and `gatehouse users reset-password`. An unknown
 * user is not_found; a user without an e-mail address, or disabled, is a conflict (nothing is sent).
 */
export async function adminPasswordReset (deps: ResetMailDeps, username: string, input: { now: number, ip: string }): Promise<ResetSent> {
  const user = await findUser(deps.storage, username)
  const refusal = resetRefusal(user)
  if (refusal === 'no_email') throw conflict(`user ${user.username} has no e-mail address to send a reset link to`)
  if (refusal === 'disabled') throw conflict(`user ${user.username} is disabled: enable it first`)
  const link = await sendPasswordReset(deps, user, input)
  if (!link || link.email === null) throw conflict(`user ${user.username} cannot be sent a reset link`)
  return { email: link.email, expires_at: link.expiresAt }
}
