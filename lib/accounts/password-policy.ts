import { dictionary } from '@zxcvbn-ts/language-common'
import { MAX_PASSWORD_LENGTH } from '../../schemas/common.js'

/**
 * The rules of a password a person chooses (sign-up, a reset, an invitation, the account page), after NIST SP
 * 800-63B §3.1.1.2: at least 8 characters and at most MAX_PASSWORD_LENGTH (1,024), counted in Unicode code points
 * and never truncated; not in a list of commonly used or breached passwords; not the username or the e-mail; and
 * no composition rules (no "one digit, one symbol"), which the guideline says only make passwords worse.
 *
 * Administrators setting a password (admin API, CLI, import) are not held to the list: they may need to set a
 * known one for a migration; people choosing their own are.
 */

export const MIN_PASSWORD_LENGTH = 8

/**
 * The list: the 49,233 most common passwords of zxcvbn-ts (@zxcvbn-ts/language-common, MIT; drawn from breach
 * corpora), kept only where they are long enough to pass the length rule, compared case-insensitively (a list
 * entry with one capital letter is no better). Built once, on first use (about 18,000 entries, ~1 MB).
 */
let common: ReadonlySet<string> | undefined
function commonPasswords (): ReadonlySet<string> {
  common ??= new Set(dictionary['passwords-common'].filter((p) => [...p].length >= MIN_PASSWORD_LENGTH).map((p) => p.toLowerCase()))
  return common
}

/** Whether `password` is on the shipped list of common and breached passwords (case-insensitively). */
export function isCommonPassword (password: string): boolean {
  return commonPasswords().has(password.toLowerCase())
}

export interface PasswordContext {
  username?: string | null | undefined
  email?: string | null | undefined
}

/**
 * Why `password` cannot be chosen, in words for the form (one sentence), or undefined when it can. `context`: the
 * words of this account a password must not be (NIST's "context-specific words").
 */
export function passwordProblem (password: string, context: PasswordContext = {}): string | undefined {
  const length = [...password].length
  if (length < MIN_PASSWORD_LENGTH) return `Choose a password of at least ${MIN_PASSWORD_LENGTH} characters.`
  if (password.length > MAX_PASSWORD_LENGTH) return `Choose a password of at most ${MAX_PASSWORD_LENGTH} characters.`
  if (isCommonPassword(password)) return 'This password is too common: it appears in lists of breached passwords. Choose another.'
  const lower = password.toLowerCase()
  const own = [context.username, context.email, context.email?.split('@')[0]].filter((w): w is string => typeof w === 'string' && w !== '')
  if (own.some((w) => w.toLowerCase() === lower)) return 'Choose a password that is not your username or e-mail address.'
  return undefined
}
