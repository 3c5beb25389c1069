import type { RequestedClaims, User } from '../stores/types.js'
import { parseScope } from './scopes.js'

/**
 * OpenID Connect claims (Core §5): which claims a scope stands for (§5.4), the `claims` request parameter (§5.5),
 * and what /userinfo and an ID token release of a user. The one home of those rules.
 */

/** OIDC Core §5.4: the claims each scope asks for. */
export const SCOPE_CLAIMS: Readonly<Record<string, readonly string[]>> = {
  profile: ['name', 'family_name', 'given_name', 'middle_name', 'nickname', 'preferred_username', 'profile', 'picture', 'website',
    'gender', 'birthdate', 'zoneinfo', 'locale', 'updated_at'],
  email: ['email', 'email_verified'],
  address: ['address'],
  phone: ['phone_number', 'phone_number_verified']
}

/** The claims a user can have released (every §5.4 claim, and `sub`). */
const USER_CLAIMS = new Set(['sub', ...Object.values(SCOPE_CLAIMS).flat()])

/** The claims Gatehouse can put in an ID token or /userinfo (discovery's claims_supported); `amr` and `acr`: lib/oauth/id-token.ts. */
export const CLAIMS_SUPPORTED = ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'at_hash', 'sid', 'amr', 'acr', ...Object.values(SCOPE_CLAIMS).flat()]

/** A `claims` parameter longer than this is refused before it is parsed (every supported claim, essential, fits in 2 KiB). */
export const MAX_CLAIMS_PARAMETER = 4096

/** Why a `claims` parameter was refused: the authorization request answers invalid_request with this text. */
export class MalformedClaims extends Error {
  override name = 'MalformedClaims'
}

/**
 * The `claims` request parameter (OIDC Core §5.5): a JSON object whose optional `userinfo` and `id_token` members are
 * objects of claim name → null or `{essential?, value?, values?}`. Kept: the names Gatehouse supports; `essential`,
 * `value` and `values` are accepted and change nothing (a claim the user record lacks is absent, essential or not, as
 * node-oidc-provider does; a value asked for is a hint, not a filter). Anything malformed throws MalformedClaims.
 */
export function parseClaimsParameter (text: string): RequestedClaims {
  if (text.length > MAX_CLAIMS_PARAMETER) throw new MalformedClaims(`the claims parameter is longer than ${MAX_CLAIMS_PARAMETER} characters`)
  let parsed: unknown
  try { parsed = JSON.parse(text) } catch { throw new MalformedClaims('the claims parameter is not JSON') }
  if (!isObject(parsed)) throw new MalformedClaims('the claims parameter must be a JSON object')
  return { userinfo: requestedIn(parsed, 'userinfo'), idToken: requestedIn(parsed, 'id_token') }
}

function isObject (value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function requestedIn (parameter: Record<string, unknown>, member: 'userinfo' | 'id_token'): string[] {
  const place = parameter[member]
  if (place === undefined || place === null) return []
  if (!isObject(place)) throw new MalformedClaims(`claims.${member} must be a JSON object`)
  const names: string[] = []
  for (const [name, request] of Object.entries(place)) {
    // §5.5.1: null (default release) or an object with the optional members essential (boolean), value, values (array).
    if (request !== null && !isObject(request)) throw new MalformedClaims(`claims.${member}.${name.slice(0, 64)} must be null or an object`)
    if (request !== null && request.essential !== undefined && typeof request.essential !== 'boolean') throw new MalformedClaims(`claims.${member}.${name.slice(0, 64)}.essential must be true or false`)
    if (request !== null && request.values !== undefined && !Array.isArray(request.values)) throw new MalformedClaims(`claims.${member}.${name.slice(0, 64)}.values must be an array`)
    if (USER_CLAIMS.has(name) && name !== 'sub') names.push(name)
  }
  return names
}

/** The scopes whose consent covers these requested claims: a claim asked for by name is consented like its scope. */
export function scopesOfClaims (requested: RequestedClaims | null | undefined): string[] {
  if (!requested) return []
  const names = new Set([...requested.userinfo, ...requested.idToken])
  return Object.entries(SCOPE_CLAIMS).filter(([, claims]) => claims.some((c) => names.has(c))).map(([scope]) => scope)
}

/** What the consent page shows and the consent remembers: the scopes granted, and those the `claims` parameter reaches. */
export function consentScopes (scopes: readonly string[], requested: RequestedClaims | null | undefined): string[] {
  return [...new Set([...scopes, ...scopesOfClaims(requested)])]
}

/** Every standard claim the user record holds, by name (absent ones left out). */
function heldClaims (user: User): Record<string, unknown> {
  const held: Record<string, unknown> = { ...user.claims, preferred_username: user.username, updated_at: user.updatedAt }
  if (user.fullName !== null) held.name = user.fullName
  if (user.email !== null) {
    held.email = user.email
    // Verified only once proven (a verification link, a reset through it) or said so by an administrator or an import.
    held.email_verified = user.emailVerified
  }
  if (user.claims.phone_number !== undefined) held.phone_number_verified = user.claims.phone_number_verified === true
  return held
}

/** `sub` and the named claims the user holds (those it lacks are absent, OIDC Core §5.3.2). */
function release (user: User, names: Iterable<string>): Record<string, unknown> {
  const held = heldClaims(user)
  const out: Record<string, unknown> = { sub: user.id }
  for (const name of names) if (held[name] !== undefined) out[name] = held[name]
  return out
}

/** The names a scope list stands for (OIDC Core §5.4). */
export function claimsOfScope (scope: string | undefined): string[] {
  return parseScope(scope).flatMap((s) => SCOPE_CLAIMS[s] ?? [])
}

/**
 * What /userinfo answers (OIDC Core §5.3.2): `sub`, the claims of the token's scopes (§5.4: with the code flow an
 * access token is always issued, so scope claims are released here and not in the ID token), and those the `claims`
 * parameter asked for at /userinfo (`requested`, carried by the access token).
 */
export function userInfoClaims (user: User, scope: string | undefined, requested: readonly string[] = []): Record<string, unknown> {
  return release(user, [...claimsOfScope(scope), ...requested])
}

/** The user claims an ID token carries besides its own (`sub` included): those the `claims` parameter asked for there (§5.5). */
export function idTokenUserClaims (user: User, requested: RequestedClaims | null): Record<string, unknown> {
  const { sub: _sub, ...claims } = release(user, requested?.idToken ?? [])
  return claims
}
