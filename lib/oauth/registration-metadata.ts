import { invalidClientMetadata, invalidRedirectUri } from '../errors.js'
import type { RegistrationMode } from '../stores/types.js'
import type { GrantType } from '../../schemas/vocabulary.js'
import { allowsPlainHttp } from './loopback-hosts.js'
import { clientKeysProblem, type ClientJwks } from './client-key-rules.js'
import { formatScope, isValidScopeList, OIDC_SCOPES, parseScope } from './scopes.js'

/**
 * RFC 7591 §2 client metadata, as POST /register and RFC 7592's PUT receive it, checked: every rule a registered
 * client's metadata must meet, pure (no I/O). What fails is refused with RFC 7591 §3.2.2's codes, nothing stored:
 * `invalid_redirect_uri` for a redirect URI, `invalid_client_metadata` for anything else.
 */

/** How a registered client authenticates at the token endpoint (RFC 7591 §2). */
export const REGISTRATION_AUTH_METHODS = ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const
export type RegistrationAuthMethod = typeof REGISTRATION_AUTH_METHODS[number]

/** Limits that keep one registration small (the body is also capped: REGISTRATION_BODY_LIMIT). */
export const REGISTRATION_LIMITS = { redirectUris: 10, contacts: 5, uriLength: 2000, nameLength: 100, textLength: 256 }

/** A registration's body after JSON parsing: anything may be in it. */
export type RegistrationRequest = Record<string, unknown>

/** The metadata as checked: what the client row holds, and what is echoed back (RFC 7591 §3.2.1). */
export interface CheckedRegistration {
  isPublic: boolean
  grantTypes: GrantType[]
  redirectUris: string[]
  scope: string
  clientName: string | null
  clientUri: string | null
  logoUri: string | null
  /** RFC 9126 §6 require_pushed_authorization_requests: its authorization requests must come through POST /par. */
  requirePar: boolean
  /** RFC 9449 §5.2 `dpop_bound_access_tokens` (default false). */
  dpopBoundAccessTokens: boolean
  /** RFC 7591 §2: its public keys, inline or by URL (never both); null when not given. */
  jwks: ClientJwks | null
  jwksUri: string | null
  /** Whether it is given a secret: confidential, and not authenticating with private_key_jwt (whose keys are its credentials). */
  hasSecret: boolean
  /** The rest, echoed as stored: response_types, token_endpoint_auth_method, contacts, tos_uri, policy_uri. */
  metadata: {
    response_types: string[]
    token_endpoint_auth_method: RegistrationAuthMethod
    contacts?: string[]
    tos_uri?: string
    policy_uri?: string
  }
}

export interface RegistrationContext {
  /** REGISTRATION: `token` allows client_credentials (an administrator handed out the initial access token). */
  mode: RegistrationMode
  /** The scopes that exist (users', administrators' clients', OpenID Connect's); `admin` is never registrable. */
  knownScopes: ReadonlySet<string>
  /** The issuer is on loopback: a jwks_uri may then be plain http on loopback too (development, tests). */
  issuerOnLoopback?: boolean
}

/** The scopes a registered client gets when it names none: OpenID Connect's. */
export const DEFAULT_REGISTERED_SCOPE = formatScope([...OIDC_SCOPES])

// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/
// eslint-disable-next-line no-control-regex -- the same, with white space, for URIs
const URI_REFUSED = /[\s\u0000-\u001f\u007f]/
/** RFC 8252 §7.1: a private-use scheme is a reverse domain name (it has a dot): `com.example.app:/cb`. */
const PRIVATE_USE_SCHEME = /^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:$/

/** Checks `body` against the rules (RFC 7591 §2, RFC 8252 §7); throws the §3.2.2 error of the first one broken. */
export function checkRegistration (body: RegistrationRequest, context: RegistrationContext): CheckedRegistration {
  const authMethod = optionalString(body, 'token_endpoint_auth_method') ?? 'client_secret_basic'
  if (!oneOf(REGISTRATION_AUTH_METHODS, authMethod)) throw invalidClientMetadata(`token_endpoint_auth_method: one of ${REGISTRATION_AUTH_METHODS.join(', ')}`)
  const isPublic = authMethod === 'none'
  // RFC 7591 §2: jwks or jwks_uri, never both; private_key_jwt needs one of them (lib/oauth/client-key-rules.ts).
  const jwks = body.jwks === undefined || body.jwks === null ? null : body.jwks
  const jwksUri = optionalString(body, 'jwks_uri') ?? null
  const hasSecret = !isPublic && authMethod !== 'private_key_jwt'
  const keysProblem = clientKeysProblem({ isPublic, hasSecret, jwks, jwksUri, tokenEndpointAuthMethod: authMethod }, { issuerOnLoopback: context.issuerOnLoopback === true })
  if (keysProblem !== undefined) throw invalidClientMetadata(keysProblem)

  // RFC 7591 §2: grant_types defaults to authorization_code, response_types to code.
  const grantTypes = unique(stringList(body, 'grant_types', 10) ?? ['authorization_code'])
  const allowed: string[] = ['authorization_code', 'refresh_token', ...(context.mode === 'token' ? ['client_credentials'] : [])]
  const refused = grantTypes.filter((g) => !allowed.includes(g))
  if (refused.length > 0) {
    const why = refused.includes('client_credentials') && context.mode === 'open' ? ' (client_credentials needs an initial access token)' : ''
    throw invalidClientMetadata(`grant_types: ${refused.join(', ').slice(0, 100)} not allowed${why}; allowed: ${allowed.join(', ')}`)
  }
  if (!grantTypes.includes('authorization_code') && !grantTypes.includes('client_credentials')) throw invalidClientMetadata('grant_types: refresh_token needs authorization_code')
  // RFC 6749 §4.4: client_credentials is for confidential clients only.
  if (isPublic && grantTypes.includes('client_credentials')) throw invalidClientMetadata('a public client (token_endpoint_auth_method none) cannot have client_credentials')

  const usesCode = grantTypes.includes('authorization_code')
  const responseTypes = unique(stringList(body, 'response_types', 5) ?? (usesCode ? ['code'] : []))
  if (responseTypes.some((r) => r !== 'code')) throw invalidClientMetadata('response_types: only code is supported')
  // RFC 7591 §2.1: the code response type and the authorization_code grant go together.
  if (usesCode !== responseTypes.includes('code')) throw invalidClientMetadata('response_types code and grant_types authorization_code go together')

  const redirectUris = unique(stringList(body, 'redirect_uris', REGISTRATION_LIMITS.redirectUris) ?? [])
  for (const uri of redirectUris) checkRedirectUri(uri)
  if (usesCode && redirectUris.length === 0) throw invalidRedirectUri('redirect_uris: the authorization_code grant needs at least one')

  const metadata: CheckedRegistration['metadata'] = { response_types: responseTypes, token_endpoint_auth_method: authMethod }
  const contacts = stringList(body, 'contacts', REGISTRATION_LIMITS.contacts)
  if (contacts !== undefined) {
    for (const contact of contacts) plainText(contact, 'contacts', REGISTRATION_LIMITS.textLength)
    metadata.contacts = contacts
  }
  const tosUri = webUri(body, 'tos_uri')
  if (tosUri !== null) metadata.tos_uri = tosUri
  const policyUri = webUri(body, 'policy_uri')
  if (policyUri !== null) metadata.policy_uri = policyUri

  const clientName = optionalString(body, 'client_name')
  if (clientName !== undefined) plainText(clientName, 'client_name', REGISTRATION_LIMITS.nameLength)
  const dpopBound = body.dpop_bound_access_tokens
  if (dpopBound !== undefined && typeof dpopBound !== 'boolean') throw invalidClientMetadata('dpop_bound_access_tokens: true or false')

  return {
    isPublic,
    grantTypes: grantTypes as GrantType[],
    redirectUris,
    scope: checkScope(body, context),
    clientName: clientName?.trim() || null,
    clientUri: webUri(body, 'client_uri'),
    logoUri: webUri(body, 'logo_uri'),
    requirePar: requiresPar(body),
    dpopBoundAccessTokens: dpopBound === true,
    jwks: jwks as ClientJwks | null,
    jwksUri,
    hasSecret,
    metadata
  }
}

/**
 * A redirect URI a registered client may have (RFC 8252 §7, RFC 9700 §2.1): https; http only on a loopback IP
 * literal or localhost (any port); or a private-use scheme named like a reverse domain. Never a fragment
 * (RFC 6749 §3.1.2), never `javascript:`, `data:` or any other scheme a browser would run or render.
 */
export function checkRedirectUri (uri: string): void {
  const shown = JSON.stringify(uri.slice(0, 200))
  if (uri.length > REGISTRATION_LIMITS.uriLength) throw invalidRedirectUri(`redirect URI longer than ${REGISTRATION_LIMITS.uriLength} characters`)
  if (URI_REFUSED.test(uri)) throw invalidRedirectUri(`redirect URI contains white space or a control character: ${shown}`)
  if (uri.includes('#')) throw invalidRedirectUri(`redirect URI must not have a fragment: ${shown}`)
  let url: URL
  try { url = new URL(uri) } catch { throw invalidRedirectUri(`redirect URI is not an absolute URI: ${shown}`) }
  if (url.protocol === 'https:') {
    if (url.hostname === '') throw invalidRedirectUri(`redirect URI has no host: ${shown}`)
    return
  }
  if (url.protocol === 'http:') {
    if (!allowsPlainHttp(url.hostname)) throw invalidRedirectUri(`plain http redirect URIs are only allowed on 127.0.0.1, [::1] or localhost: ${shown}`)
    return
  }
  if (!PRIVATE_USE_SCHEME.test(url.protocol)) throw invalidRedirectUri(`redirect URI scheme must be https, http on loopback, or a private-use scheme like com.example.app: ${shown}`)
}

/** The requested scope, each of it existing and never `admin`; OpenID Connect's when absent. */
function checkScope (body: RegistrationRequest, context: RegistrationContext): string {
  const scope = optionalString(body, 'scope')
  if (scope === undefined) return DEFAULT_REGISTERED_SCOPE
  if (scope.length > 2048 || !isValidScopeList(scope)) throw invalidClientMetadata('scope: a space-separated list of scope tokens')
  const scopes = parseScope(scope)
  const unknown = scopes.filter((s) => s === 'admin' || !context.knownScopes.has(s))
  if (unknown.length > 0) throw invalidClientMetadata(`scope: not available to registered clients: ${unknown.join(' ').slice(0, 200)}`)
  return formatScope(scopes)
}

/** An https URI shown to users or linked (client_uri, logo_uri, tos_uri, policy_uri); null when absent. */
function webUri (body: RegistrationRequest, name: string): string | null {
  const uri = optionalString(body, name)
  if (uri === undefined) return null
  let url: URL | undefined
  try { url = new URL(uri) } catch {}
  if (uri.length > REGISTRATION_LIMITS.uriLength || URI_REFUSED.test(uri) || url?.protocol !== 'https:' || url.hostname === '') {
    throw invalidClientMetadata(`${name}: an https URL of at most ${REGISTRATION_LIMITS.uriLength} characters`)
  }
  return uri
}

function optionalString (body: RegistrationRequest, name: string): string | undefined {
  const value = body[name]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') throw invalidClientMetadata(`${name}: a string`)
  return value
}

function stringList (body: RegistrationRequest, name: string, max: number): string[] | undefined {
  const value = body[name]
  if (value === undefined || value === null) return undefined
  const refuse = name === 'redirect_uris' ? invalidRedirectUri : invalidClientMetadata
  if (!Array.isArray(value) || value.length > max || !value.every((v) => typeof v === 'string')) throw refuse(`${name}: a list of at most ${max} strings`)
  return value as string[]
}

/** Text shown to people: bounded, no control or direction-override characters (they could disguise it). */
function plainText (text: string, name: string, max: number): void {
  if (text.trim() === '' || text.length > max || CONTROL.test(text)) throw invalidClientMetadata(`${name}: 1 to ${max} characters, no control characters`)
}

const unique = (list: string[]): string[] => [...new Set(list)]
const oneOf = <T extends string>(words: readonly T[], value: string): value is T => (words as readonly string[]).includes(value)

/** RFC 9126 §6: a boolean, false when absent. */
function requiresPar (body: RegistrationRequest): boolean {
  const value = body.require_pushed_authorization_requests
  if (value === undefined) return false
  if (typeof value !== 'boolean') throw invalidClientMetadata('require_pushed_authorization_requests must be a boolean')
  return value
}
