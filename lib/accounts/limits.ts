import { digest } from '../credentials/digest.js'
import type { Limit, Throttle } from '../limits/throttle.js'

/**
 * Limits on the self-service actions that send e-mail or create accounts (CONTRACT.md, Accounts; SECURITY-CASES
 * U4): each is counted per client address and per e-mail address, in the counters every instance shares (Redis
 * when set). Beyond either, the page says to try later and nothing is sent or created.
 *
 * - per client address, per action: 20 per 15 minutes. A household or an office behind one address signs up or
 *   resets a handful of times; a script trying 100 addresses stops at 20.
 * - per e-mail address, over every action together: 5 messages per hour. A person who lost a message asks
 *   again once or twice; nobody can make Gatehouse flood someone's inbox.
 */
export type AccountAction = 'signup' | 'forgot_password' | 'email_change' | 'invitation' | 'verification'

export const ADDRESS_ACTIONS = { max: 20, windowSeconds: 15 * 60 }
export const EMAIL_MESSAGES = { max: 5, windowSeconds: 3600 }

/** Counters hold digests, never an address or an e-mail in clear (they may go to Redis). */
const keyOf = (text: string) => digest(text).slice(0, 22)

/** The one form an e-mail address is counted under: trimmed, lowercase. */
export const normalizedEmail = (email: string): string => email.trim().toLowerCase()

/**
 * The limits one request of `action` counts against. `address`: the client's address key
 * (lib/limits/address-key.ts, request.addressKey); `email`: the address a message would go to, when there is one.
 */
export function accountLimits (action: AccountAction, address: string, email: string | null | undefined): Limit[] {
  const limits: Limit[] = [{ key: `acct:${action}:ip:${keyOf(address)}`, kind: 'address', ...ADDRESS_ACTIONS }]
  if (typeof email === 'string' && email.trim() !== '') limits.push({ key: `acct:mail:${keyOf(normalizedEmail(email))}`, kind: 'request', ...EMAIL_MESSAGES })
  return limits
}

/** Counts one request of `action`; the seconds to wait when it went over a limit, else undefined. */
export function takeAccountLimit (throttle: Throttle, action: AccountAction, address: string, email: string | null | undefined): Promise<number | undefined> {
  return throttle.take(accountLimits(action, address, email))
}
