import { OAuthError } from '../errors.js'
import { ACCOUNT_PAGE_CLIENT } from '../accounts/password-change.js'
import { signIn, type SignInDeps } from '../oauth/sign-in.js'
import type { User } from '../stores/types.js'
import { checkSecondFactorCode, type CodeCheckDeps } from './second-factor.js'

/**
 * Proving it is still the user before a change to their second factors (a session alone is not enough: it may be a
 * borrowed browser). The current password is checked as a sign-in checks it, a code as the second-factor page
 * checks it: both count toward the account's brute-force limit.
 */
export type Reauthentication = 'ok' | 'missing' | 'wrong' | { throttled: number }

export interface ReauthenticationInput {
  password?: unknown
  /** Taken only when `codeAllowed` (an app's code or a recovery code). */
  code?: unknown
  codeAllowed: boolean
  clientIp: string
  addressKey: string
  now: number
}

const given = (value: unknown): value is string => typeof value === 'string' && value !== ''

export async function reauthenticate (deps: SignInDeps & CodeCheckDeps, user: User, input: ReauthenticationInput): Promise<Reauthentication> {
  if (given(input.password)) {
    try {
      const checked = await signIn(deps, { username: user.username, password: input.password, clientIp: input.clientIp, addressKey: input.addressKey, clientId: ACCOUNT_PAGE_CLIENT })
      return checked.id === user.id ? 'ok' : 'wrong'
    } catch (err) {
      if (err instanceof OAuthError && err.error === 'invalid_grant') return 'wrong'
      if (err instanceof OAuthError && err.error === 'too_many_requests') return { throttled: Number(err.headers['retry-after'] ?? 60) }
      throw err
    }
  }
  if (input.codeAllowed && given(input.code)) {
    const check = await checkSecondFactorCode(deps, user, { code: input.code.slice(0, 64), clientIp: input.clientIp, addressKey: input.addressKey, clientId: ACCOUNT_PAGE_CLIENT, now: input.now })
    return check.outcome === 'ok' ? 'ok' : check.outcome === 'wrong' ? 'wrong' : { throttled: check.retryAfter }
  }
  return 'missing'
}
