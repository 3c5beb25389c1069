import { invalidInput } from '../errors.js'
import type { AddressClaim, User, UserClaims } from '../stores/types.js'

/**
 * The standard claims an administrator (the admin API, the CLI, an import) may set on a user: the names and types of
 * OIDC Core §5.1, each checked here, so every way in applies the same rules. Unknown names are refused (a typo would
 * otherwise be kept and never released); `name`, `preferred_username`, `email` and `updated_at` are not here, they
 * come from the user record itself (full name, username, e-mail, last change).
 */

/** Free text claims: at most this many characters each. */
const MAX_TEXT = 256
/** URL claims (profile, picture, website): at most this many characters. */
const MAX_URL = 2048
/** The whole object as JSON: a user row stays small (it is read on every token and /userinfo). */
export const MAX_USER_CLAIMS_BYTES = 8192

const TEXT = ['given_name', 'family_name', 'middle_name', 'nickname', 'gender'] as const
const URLS = ['profile', 'picture', 'website'] as const
const BOOLEANS = ['email_verified', 'phone_number_verified'] as const
const ADDRESS_FIELDS = ['formatted', 'street_address', 'locality', 'region', 'postal_code', 'country'] as const

/**
 * The claims as an administrator sees and sets them: with `email_verified` (kept in its own column, User.emailVerified)
 * when true, so a view or an export read back in keeps it.
 */
export function claimsView (user: User): UserClaims {
  return user.emailVerified ? { ...user.claims, email_verified: true } : user.claims
}

/** Every name a user's claims object may hold. */
export const USER_CLAIM_NAMES = [...TEXT, ...URLS, ...BOOLEANS, 'birthdate', 'zoneinfo', 'locale', 'phone_number', 'address'] as const

// BCP 47 as OIDC Core §5.1 uses it (`en-US`, `fr`, `zh-Hant-TW`; also `en_US`, which §5.1 says some implementations use).
const LOCALE = /^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8})*$/
// §5.1 birthdate: ISO 8601 YYYY-MM-DD, or YYYY alone (0000 stands for an omitted year: 0000-MM-DD).
const BIRTHDATE = /^[0-9]{4}(-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01]))?$/
// §5.1 phone_number: E.164 recommended (+ then up to 15 digits); RFC 3966 extension `;ext=1234` allowed.
const PHONE = /^\+[1-9][0-9]{1,14}(;ext=[0-9]{1,10})?$/
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL = /[\u0000-\u001f\u007f]/

let zones: Set<string> | undefined
/** IANA time zone names this runtime knows (§5.1 zoneinfo), plus `UTC`, which some runtimes list only as an alias. */
function isTimeZone (value: string): boolean {
  zones ??= new Set([...Intl.supportedValuesOf('timeZone'), 'UTC', 'Etc/UTC'])
  if (zones.has(value)) return true
  // An alias the list leaves out (Asia/Calcutta…) is still an IANA name when the runtime resolves it.
  if (!value.includes('/')) return false
  try { return new Intl.DateTimeFormat('en', { timeZone: value }).resolvedOptions().timeZone.length > 0 } catch { return false }
}

function text (name: string, value: unknown, max = MAX_TEXT): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max || CONTROL.test(value)) {
    throw invalidInput(`claims.${name}: a non-empty string of at most ${max} characters, no control characters`)
  }
  return value
}

function url (name: string, value: unknown): string {
  const s = text(name, value, MAX_URL)
  let parsed: URL
  try { parsed = new URL(s) } catch { throw invalidInput(`claims.${name}: not a URL`) }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw invalidInput(`claims.${name}: must be an http or https URL`)
  return s
}

function address (value: unknown): AddressClaim {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidInput('claims.address: must be an object')
  for (const key of Object.keys(value)) {
    if (!(ADDRESS_FIELDS as readonly string[]).includes(key)) throw invalidInput(`claims.address: unknown field ${key.slice(0, 64)} (known: ${ADDRESS_FIELDS.join(', ')})`)
  }
  const given = value as Record<string, unknown>
  const out: AddressClaim = {}
  for (const key of ADDRESS_FIELDS) {
    const field = given[key]
    if (field === undefined) continue
    // formatted may span lines (§5.1.1: "\r\n" or "\n" separate them); every other field is one line.
    if (key === 'formatted') text('address.formatted', typeof field === 'string' ? field.replace(/\r?\n/g, ' ') : field, MAX_TEXT * 2)
    out[key] = key === 'formatted' ? field as string : text(`address.${key}`, field)
  }
  if (Object.keys(out).length === 0) throw invalidInput('claims.address: an empty address; leave address out instead')
  return out
}

/**
 * A user's claims object, checked (OIDC Core §5.1 types): throws invalid_request naming the first bad member. The
 * object returned holds the same members, in a fixed order, so equal claims are equal JSON (an import compares them).
 */
export function checkUserClaims (input: unknown): UserClaims {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw invalidInput('claims: must be a JSON object')
  if (JSON.stringify(input).length > MAX_USER_CLAIMS_BYTES) throw invalidInput(`claims: larger than ${MAX_USER_CLAIMS_BYTES} bytes as JSON`)
  const given = input as Record<string, unknown>
  for (const key of Object.keys(given)) {
    if (!(USER_CLAIM_NAMES as readonly string[]).includes(key)) throw invalidInput(`claims: unknown claim ${key.slice(0, 64)} (known: ${USER_CLAIM_NAMES.join(', ')})`)
  }
  const out: UserClaims = {}
  for (const name of USER_CLAIM_NAMES) {
    const value = given[name]
    if (value === undefined) continue
    if ((TEXT as readonly string[]).includes(name)) out[name as typeof TEXT[number]] = text(name, value)
    else if ((URLS as readonly string[]).includes(name)) out[name as typeof URLS[number]] = url(name, value)
    else if ((BOOLEANS as readonly string[]).includes(name)) {
      if (typeof value !== 'boolean') throw invalidInput(`claims.${name}: must be true or false`)
      out[name as typeof BOOLEANS[number]] = value
    } else if (name === 'birthdate') {
      if (typeof value !== 'string' || !BIRTHDATE.test(value)) throw invalidInput('claims.birthdate: YYYY-MM-DD or YYYY')
      out.birthdate = value
    } else if (name === 'zoneinfo') {
      if (typeof value !== 'string' || value.length > 64 || !isTimeZone(value)) throw invalidInput('claims.zoneinfo: an IANA time zone name, such as Europe/Paris')
      out.zoneinfo = value
    } else if (name === 'locale') {
      if (typeof value !== 'string' || value.length > 35 || !LOCALE.test(value)) throw invalidInput('claims.locale: a BCP 47 language tag, such as en-US')
      out.locale = value
    } else if (name === 'phone_number') {
      if (typeof value !== 'string' || !PHONE.test(value)) throw invalidInput('claims.phone_number: an E.164 number, such as +15555550100 (optionally ;ext=123)')
      out.phone_number = value
    } else if (name === 'address') {
      out.address = address(value)
    }
  }
  return out
}
