/** The longest name a second factor may have (an authenticator app's, a passkey's). */
export const MAX_FACTOR_NAME = 64

/**
 * A factor's name as the user typed it, for the account page and the admin list: each run of white space one space,
 * no control or format characters (no bidi override dressing one name up as another), trimmed and cut to
 * MAX_FACTOR_NAME; `fallback` when nothing is left.
 */
export function factorName (typed: unknown, fallback: string): string {
  const name = typeof typed === 'string' ? typed.replace(/\s+/g, ' ').replace(/[\p{Cc}\p{Cf}]/gu, '').trim().slice(0, MAX_FACTOR_NAME) : ''
  return name === '' ? fallback : name
}
