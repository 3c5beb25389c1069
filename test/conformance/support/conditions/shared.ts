import { randomInt } from 'node:crypto'
import { fail, isObject, type Jwt } from '../env.js'

/** What the conditions share: reading a JWT, random values as the suite makes them, and the suite's validators. */

const decodePart = (part: string): Record<string, unknown> => {
  const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown
  if (!isObject(value)) throw new Error('not a JSON object')
  return value
}

/** A compact JWS (or an unsecured JWT, alg none) as header and claims; what cannot be read is the condition's failure. */
export function parseJwt (value: string, what: string): Jwt {
  const parts = value.split('.')
  if (parts.length !== 3) fail(`Couldn't parse ${what} as a JWT (${parts.length === 5 ? 'it is encrypted' : `${parts.length} parts`})`)
  try {
    return { value, header: decodePart(parts[0] ?? ''), claims: decodePart(parts[1] ?? '') }
  } catch (err) {
    return fail(`Couldn't parse ${what} as a JWT: ${(err as Error).message}`)
  }
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
const pick = (alphabet: string, count: number) => Array.from({ length: count }, () => alphabet[randomInt(alphabet.length)]).join('')

/** CreateRandomStateValue / CreateRandomNonceValue: 10 alphanumerics, or for a longer value its length less 4 and `-._~`. */
export function randomValue (length = 10): string {
  return length > 10 ? pick(ALPHANUMERIC, length - 4) + '-._~' : pick(ALPHANUMERIC, length)
}

/** RFC6749AppendixASyntaxUtils.generateVSChar: letters, digits, then printable punctuation (space included). */
export function randomVsChars (letters: number, digits: number, punctuation: number): string {
  let puncts = ''
  for (let code = 0x20; code <= 0x7e; code++) {
    const c = String.fromCharCode(code)
    if (!/[A-Za-z0-9]/.test(c)) puncts += c
  }
  return pick(ALPHANUMERIC.slice(0, 52), letters) + pick('0123456789', digits) + pick(puncts, punctuation)
}

/** AbstractEnsureMinimumEntropy: the Shannon entropy per character times the length, in bits. */
export function shannonBits (s: string): number {
  const counts = new Map<string, number>()
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1)
  let perChar = 0
  for (const n of counts.values()) {
    const p = n / s.length
    perChar -= p * Math.log2(p)
  }
  return perChar * s.length
}

export function ensureEntropy (value: string, bits: number, what: string): void {
  const entropy = shannonBits(value)
  if (!(entropy > bits)) fail(`${what}: the calculated Shannon entropy does not meet the minimum`, { expected: bits, actual: entropy })
}

/** Byte length × 8 of a value, at least `bits` (EnsureMinimum…Length). */
export function ensureLength (value: string, bits: number, what: string): void {
  const actual = Buffer.byteLength(value) * 8
  if (actual < bits) fail(`${what} is not long enough`, { required_bits: bits, actual_bits: actual })
}

/** RFC 6749 §5.2 / §4.1.2.1 character sets of `error`, `error_description` and `error_uri`. */
export const ERROR_CHARS = /^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/
// eslint-disable-next-line no-control-regex -- RFC 6749 allows tab, LF and CR here, exactly these
export const ERROR_DESCRIPTION_CHARS = /^[\x09\x0A\x0D\x20-\x21\x23-\x5B\x5D-\x7E]+$/
export const ERROR_URI_CHARS = /^[\x21\x23-\x5B\x5D-\x7E]+$/

/** The error_description checks of an error response (Validate…ErrorDescription… and …ContainsCRLFTAB). */
export function errorDescriptionValid (response: Record<string, unknown>): void {
  const description = response.error_description
  if (typeof description !== 'string' || description === '') return
  if (!ERROR_DESCRIPTION_CHARS.test(description)) fail('error_description has characters outside %x09-0A / %x0D / %x20-21 / %x23-5B / %x5D-7E', { error_description: description })
}

export function errorDescriptionHasNoCrLfTab (response: Record<string, unknown>): void {
  const description = response.error_description
  if (typeof description === 'string' && /[\r\n\t]/.test(description)) fail('error_description has CR, LF or TAB, which are not recommended', { error_description: description })
}

export function errorUriValid (response: Record<string, unknown>): void {
  const uri = response.error_uri
  if (typeof uri !== 'string' || uri === '') return
  if (!URL.canParse(uri)) fail('error_uri is not a URI', { error_uri: uri })
  if (!ERROR_URI_CHARS.test(uri)) fail('error_uri has characters outside %x21 / %x23-5B / %x5D-7E', { error_uri: uri })
}

/** The mime type of a Content-Type value (AbstractCheckEndpointContentTypeReturned). */
export function mimeType (contentType: string | undefined): string | undefined {
  return contentType?.split(';')[0]?.trim()
}

/** The digest an `at_hash`/`c_hash` uses for a JWS algorithm (OIDC Core §3.1.3.6; JWAUtil). */
export function hashAlgorithmFor (alg: string): string {
  if (/^(HS|RS|ES|PS)256$|^ES256K$/.test(alg)) return 'sha256'
  if (/^(HS|RS|ES|PS)384$/.test(alg)) return 'sha384'
  if (/^(HS|RS|ES|PS)512$|^EdDSA$|^Ed25519$/.test(alg)) return 'sha512'
  return fail('Invalid algorithm for a hash', { alg })
}

type Validator = (value: unknown) => boolean
const isContentString: Validator = (v) => typeof v === 'string' && v.trim() !== '' && v.toLowerCase() !== 'null'
const isBoolean: Validator = (v) => typeof v === 'boolean'
const isNumber: Validator = (v) => typeof v === 'number'
const isJsonObject: Validator = (v) => isObject(v)
const isBirthdate: Validator = (v) => {
  if (!isContentString(v)) return false
  const text = v as string
  const thisYear = new Date().getUTCFullYear()
  const sane = (year: number) => year >= 1850 && year <= thisYear
  const full = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text)
  if (full) {
    const [year, month, day] = [Number(full[1]), Number(full[2]), Number(full[3])]
    const date = new Date(Date.UTC(year, month - 1, day))
    const real = date.getUTCMonth() === month - 1 && date.getUTCDate() === day
    return real && (year === 0 || sane(year))
  }
  return /^\d{1,9}$/.test(text) && sane(Number(text))
}
const ADDRESS_CLAIMS: Record<string, Validator> = {
  formatted: isContentString, street_address: isContentString, locality: isContentString, region: isContentString, postal_code: isContentString, country: isContentString
}

/** AbstractValidateOpenIdStandardClaims: the types OIDC Core §5.1 gives the standard claims; other claims are not checked. */
export const STANDARD_CLAIMS: Record<string, Validator> = {
  sub: isContentString,
  name: isContentString,
  given_name: isContentString,
  family_name: isContentString,
  middle_name: isContentString,
  nickname: isContentString,
  preferred_username: isContentString,
  profile: isContentString,
  picture: isContentString,
  website: isContentString,
  email: isContentString,
  email_verified: isBoolean,
  gender: isContentString,
  birthdate: isBirthdate,
  zoneinfo: isContentString,
  locale: isContentString,
  phone_number: isContentString,
  phone_number_verified: isBoolean,
  address: (v) => objectValid(v, ADDRESS_CLAIMS).length === 0,
  updated_at: isNumber,
  _claim_names: isJsonObject,
  _claim_sources: isJsonObject,
  txn: isContentString
}

/** The claims of `value` whose type is wrong (an empty or non-object value is wrong as a whole). */
export function objectValid (value: unknown, validators: Record<string, Validator>): string[] {
  if (!isObject(value) || Object.keys(value).length === 0) return ['not a JSON object, or no identity claims']
  return Object.entries(value).filter(([name, v]) => validators[name] !== undefined && !validators[name]?.(v)).map(([name]) => name)
}

/** AbstractVerifyScopesReturnedInClaims: the claims each scope value stands for (OIDC Core §5.4). */
export const SCOPE_STANDARD_CLAIMS: Record<string, string[]> = {
  openid: ['sub'],
  profile: ['name', 'given_name', 'family_name', 'middle_name', 'nickname', 'profile', 'picture', 'website', 'gender', 'birthdate', 'zoneinfo', 'locale', 'updated_at', 'preferred_username'],
  email: ['email', 'email_verified'],
  address: ['address'],
  phone: ['phone_number', 'phone_number_verified'],
  offline_access: []
}

/** AbstractUpdatedAtValid: `updated_at`, when there, is after 1990 and not in the future (5 minutes of skew). */
export function updatedAtValid (claims: Record<string, unknown>, where: string, now: number): void {
  const updatedAt = claims.updated_at
  if (updatedAt === undefined) return
  if (typeof updatedAt !== 'number') fail(`updated_at in ${where} is not a number`, { updated_at: updatedAt })
  if (updatedAt > now + 300) fail(`updated_at in ${where} appears to be in the future`, { updated_at: updatedAt, now })
  if (updatedAt < Date.UTC(1990, 0, 1) / 1000) fail(`updated_at in ${where} appears to be prior to the year 1990`, { updated_at: updatedAt })
}

/** Java's URLEncoder (application/x-www-form-urlencoded), as AddBasicAuthClientSecretToRequest encodes the id and secret. */
export function formEncode (s: string): string {
  return encodeURIComponent(s).replace(/[!'()~]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase()).replace(/%20/g, '+')
}
