import { createHash } from 'node:crypto'
import { AuthorizationError, badAuthorizationRequest } from '../errors.js'
import type { Client, ClientStore, RequestedClaims, Resource, ResourceStore } from '../stores/types.js'
import { RESPONSE_MODES, type ResponseMode } from '../../schemas/vocabulary.js'
import { isOidcScope, parseScope } from './scopes.js'
import { MalformedClaims, parseClaimsParameter } from './claims.js'
import { resolveResources, resourceDefinedScopes, resourceValues } from './resources.js'
import { mustPush, resolvePushedRequest, type PushedMark } from './pushed-requests.js'
import type { PushedRequestStore } from '../stores/types.js'
import { InvalidRequestObject, resolveRequestObject, type RequestObjectDeps } from './request-object.js'

/**
 * The authorization request (RFC 6749 §4.1.1, RFC 7636, OIDC Core §3.1.2.1): who asks, where the answer
 * goes, and what for. The one home of its rules; routes/browser only reads the query and renders.
 */

/** RFC 6749 §4.1.2 recommends at most 10 minutes; Gatehouse's codes live 60 s (CONTRACT.md). */
export const AUTHORIZATION_CODE_TTL_SECONDS = 60

// The OpenID Connect scopes every client allowed `authorization_code` may ask for (they name claims, not rights):
// defined in scopes.ts, re-exported here with the authorization request's other rules.
export { isOidcScope, OIDC_SCOPES } from './scopes.js'

/** RFC 7636 §4.2: S256 is BASE64URL(SHA256(verifier)), 43 characters exactly. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/
/** RFC 7636 §4.1: 43 to 128 unreserved characters. */
const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/
const PROMPTS = new Set(['none', 'login', 'consent', 'select_account'])
/** OIDC Core §3.1.2.1: how the pages should be displayed. Gatehouse has one layout for all, and refuses other words. */
export const DISPLAY_VALUES = ['page', 'popup', 'touch', 'wap'] as const
/** A hint longer than any ID token Gatehouse signs is refused before its signature is checked. */
const MAX_ID_TOKEN_HINT = 8192
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/

export type Query = Record<string, unknown>

/** Where an answer goes back to the client: its checked redirect URI, in the response mode asked for, with `state`. */
export interface ClientTarget {
  redirectUri: string
  /** Echoed byte-exact; undefined when not sent. */
  state: string | undefined
  responseMode: ResponseMode
  /** The pushed request (RFC 9126) the parameters came from: the answer that ends the sign-in spends it. */
  pushed?: PushedMark | undefined
}

/**
 * Reads an `id_token_hint`: the `sub` and `aud` of an ID token this issuer signed (its signature checked against the
 * published keys; expiry not checked, as OIDC Core §3.1.2.1 allows an expired one), or undefined (lib/oauth/id-tokens.ts).
 */
export type IdTokenHintReader = (token: string) => { sub: string, aud: string } | undefined

export interface AuthorizationRequest extends ClientTarget {
  client: Client
  /** What was asked for; undefined when no `scope` was sent (then everything allowed). */
  scopes: string[] | undefined
  /** The PKCE S256 challenge; null when a client whose PKCE is optional sent none (the code is then bound to none). */
  codeChallenge: string | null
  nonce: string | undefined
  prompt: Set<string>
  /** OIDC `max_age`, seconds. */
  maxAge: number | undefined
  loginHint: string | undefined
  /** The user an `id_token_hint` names (its signature checked); the interaction policy compares it with the session's. */
  idTokenHint: { sub: string } | undefined
  /** The `claims` parameter (OIDC Core §5.5), as the names it asks for; undefined when not sent. */
  claims?: RequestedClaims
  /**
   * `acr_values` (OIDC Core §3.1.2.1), space-separated, as sent: the interaction policy asks for a second factor when
   * it names urn:gatehouse:acr:mfa and not urn:gatehouse:acr:pwd (lib/mfa/assurance.ts asksForTwoFactors).
   */
  acrValues?: string
  /** The registered resources (RFC 8707) the request names through `resource`, in order; absent or [] when none. */
  resources?: Resource[]
  /** RFC 9449 §10: `dpop_jkt`, the thumbprint of the DPoP key the code is bound to (its exchange needs a proof with that key). */
  dpopJkt?: string
  /**
   * The parameters the request was read from when a signed request object (RFC 9101) supplied them: the login and
   * consent forms return to these (verified once, here), never to the object again.
   */
  parameters?: Query
}

/** A parameter sent once (a string), or undefined; a repeated one is reported by `repeated`. */
function single (query: Query, name: string): string | undefined {
  const value = query[name]
  if (typeof value === 'string') return value === '' ? undefined : value
  return undefined
}
const repeated = (query: Query, name: string): boolean => Array.isArray(query[name])

/** Loopback IP literals (RFC 8252 §7.3: `localhost` is NOT RECOMMENDED, and gets no port leniency here). */
const isLoopbackIp = (hostname: string): boolean => hostname === '127.0.0.1' || hostname === '[::1]'

/**
 * Exact string match against the registered URIs (RFC 9700 §4.1.3), except that a native app's loopback
 * URI may come back on any port (RFC 8252 §7.3): `http://127.0.0.1/cb` registered matches
 * `http://127.0.0.1:51234/cb` and nothing else (same scheme, host, path and query, byte for byte).
 */
export function redirectUriMatches (registered: readonly string[], presented: string): boolean {
  if (registered.includes(presented)) return true
  let url: URL
  try { url = new URL(presented) } catch { return false }
  if (url.protocol !== 'http:' || !isLoopbackIp(url.hostname)) return false
  return registered.some((candidate) => {
    let expected: URL
    try { expected = new URL(candidate) } catch { return false }
    if (expected.protocol !== 'http:' || expected.hostname !== url.hostname) return false
    expected.port = url.port
    return expected.href === presented
  })
}

/**
 * Step one: the client and the redirect URI. Anything wrong here is shown to the user as an HTML page
 * and never redirected (RFC 6749 §4.1.2.1), so an attacker cannot use Gatehouse as an open redirector.
 */
export async function resolveClient (query: Query, clients: Pick<ClientStore, 'find'>): Promise<{ client: Client, redirectUri: string, state: string | undefined }> {
  return redirectTarget(query, await clientOf(query, clients))
}

/** The client the request names; an HTML error page otherwise (its grant is checked with its redirect URI, `clientTarget`). */
async function clientOf (query: Query, clients: Pick<ClientStore, 'find'>): Promise<Client> {
  if (repeated(query, 'client_id') || repeated(query, 'redirect_uri')) throw badAuthorizationRequest('client_id or redirect_uri is repeated')
  const clientId = single(query, 'client_id')
  if (clientId === undefined) throw badAuthorizationRequest('the request has no client_id')
  const client = clientId.length <= 256 ? await clients.find(clientId) : undefined
  if (!client) throw badAuthorizationRequest('unknown client')
  return client
}

/** What is wrong with a client's own part of the request: its grant, or its redirect URI (missing, or not registered). */
export type ClientTargetRefusal = 'unauthorized_client' | 'invalid_request' | 'invalid_redirect_uri'

/**
 * The client's redirect URI and `state`, for a known client: an error page at /authorize (`fail`'s default); at
 * POST /par (RFC 9126 §2.3) the same rules answer the client as JSON.
 */
export function clientTarget (query: Query, client: Client,
  fail: (error: ClientTargetRefusal, description: string) => never = (_error, description) => { throw badAuthorizationRequest(description) }): { client: Client, redirectUri: string, state: string | undefined } {
  if (!client.grantTypes.includes('authorization_code')) fail('unauthorized_client', 'this client may not use the authorization code flow')
  const presented = single(query, 'redirect_uri')
  // OIDC Core §3.1.2.1 requires redirect_uri; RFC 6749 §3.1.2.3 lets a client with one URI leave it out.
  const redirectUri = presented ?? (client.redirectUris.length === 1 ? client.redirectUris[0] : undefined)
  if (redirectUri === undefined) return fail('invalid_request', 'the request has no redirect_uri')
  if (!redirectUriMatches(client.redirectUris, redirectUri)) fail('invalid_redirect_uri', 'the redirect_uri is not registered for this client')
  const state = repeated(query, 'state') ? undefined : single(query, 'state')
  return { client, redirectUri, state }
}

/** The known parameters of step two: each may be sent once (RFC 6749 §3.1). */
const SINGLE_PARAMETERS = ['state', 'response_type', 'response_mode', 'scope', 'code_challenge', 'code_challenge_method', 'nonce', 'prompt',
  'max_age', 'login_hint', 'id_token_hint', 'display', 'ui_locales', 'claims_locales', 'acr_values', 'request', 'request_uri', 'claims']

/**
 * Step two: everything else. The client and redirect URI are trusted now, so errors go back to the client
 * (with `state` and `iss`), in the response mode asked for once that is known. Unknown parameters are ignored
 * (OIDC Core §3.1.2.1); known ones sent twice are `invalid_request` (RFC 6749 §3.1). `ui_locales` is read by the pages
 * themselves (lib/i18n/: from the request, and from `return_to` through the sign-in). Accepted and not acted on
 * (OIDC Core §3.1.2.1, §15.1): `claims_locales` (claims have one language) and `display` (one
 * layout fits them all; a value OIDC does not define is refused). `acr_values` is kept: urn:gatehouse:acr:mfa asks
 * for a second factor (lib/oauth/interaction.ts); a value Gatehouse does not know is ignored, as §3.1.2.1 allows
 * (the ID token's `acr` says what was done).
 */
export function checkAuthorizationRequest (
  query: Query,
  target: { client: Client, redirectUri: string, state: string | undefined, pushed?: PushedMark | undefined },
  readIdTokenHint: IdTokenHintReader = () => undefined
): AuthorizationRequest {
  let to: ClientTarget = { redirectUri: target.redirectUri, state: target.state, responseMode: 'query', ...(target.pushed === undefined ? {} : { pushed: target.pushed }) }
  const fail = (error: 'invalid_request' | 'unsupported_response_type' | 'invalid_scope' | 'request_not_supported' | 'request_uri_not_supported', description: string): never => {
    throw new AuthorizationError(error, description, to)
  }
  for (const name of SINGLE_PARAMETERS) {
    if (repeated(query, name)) fail('invalid_request', `parameter ${name} is repeated`)
  }
  // First the response mode, so every later refusal travels the way the client asked for.
  const responseMode = single(query, 'response_mode')
  if (responseMode !== undefined) to = { ...to, responseMode: responseModeFor(responseMode, target.redirectUri, fail) }

  // OIDC Core §3.1.2.6, §6: a request object, by value or by reference, is refused, never ignored (its parameters
  // would be). Before the other checks: what it carries (state, a PKCE challenge) is not outside it.
  const requestObject = single(query, 'request')
  if (requestObject !== undefined) {
    if (responseMode === undefined) to = { ...to, responseMode: requestObjectResponseMode(requestObject, target.redirectUri) }
    fail('request_not_supported', 'request objects (the request parameter) are not supported')
  }
  if (single(query, 'request_uri') !== undefined) fail('request_uri_not_supported', 'request_uri is not supported')

  const responseType = single(query, 'response_type')
  if (responseType === undefined) fail('invalid_request', 'missing parameter: response_type')
  if (responseType !== 'code') fail('unsupported_response_type', 'only response_type=code is supported')

  const codeChallenge = pkceChallenge(query, target.client, fail)

  const scope = single(query, 'scope')
  let scopes: string[] | undefined
  if (scope !== undefined) {
    scopes = parseScope(scope)
    if (!scopes.every((s) => SCOPE_TOKEN.test(s))) fail('invalid_scope', 'the scope parameter is malformed')
    // Non-OIDC scopes must be among the client's, when it has a list (the user's are checked after sign-in).
    const clientScopes = parseScope(target.client.scope)
    const refused = target.client.scope === null ? [] : scopes.filter((s) => !isOidcScope(s) && !clientScopes.includes(s))
    if (refused.length > 0) fail('invalid_scope', `scope not allowed: ${refused.join(' ').slice(0, 200)}`)
  }

  const prompt = new Set(parseScope(single(query, 'prompt')))
  for (const p of prompt) if (!PROMPTS.has(p)) fail('invalid_request', `unknown prompt value: ${p.slice(0, 32)}`)
  if (prompt.has('none') && prompt.size > 1) fail('invalid_request', 'prompt=none cannot be combined with other values')

  const maxAgeText = single(query, 'max_age')
  let maxAge: number | undefined
  if (maxAgeText !== undefined) {
    if (!/^[0-9]{1,10}$/.test(maxAgeText)) fail('invalid_request', 'max_age must be a number of seconds')
    maxAge = Number(maxAgeText)
  }
  const nonce = single(query, 'nonce')
  if (nonce !== undefined && nonce.length > 512) fail('invalid_request', 'nonce is longer than 512 characters')
  const display = single(query, 'display')
  if (display !== undefined && !(DISPLAY_VALUES as readonly string[]).includes(display)) fail('invalid_request', `display must be one of ${DISPLAY_VALUES.join(', ')}`)
  const loginHint = single(query, 'login_hint')
  const acrValues = single(query, 'acr_values')
  const claimsText = single(query, 'claims')
  let claims: RequestedClaims | undefined
  if (claimsText !== undefined) {
    try {
      claims = parseClaimsParameter(claimsText)
    } catch (err) {
      if (err instanceof MalformedClaims) fail('invalid_request', err.message)
      throw err
    }
  }
  // RFC 9449 §10: a SHA-256 JWK thumbprint (RFC 7638), base64url: 43 characters.
  const dpopJkt = single(query, 'dpop_jkt')
  if (dpopJkt !== undefined && !/^[A-Za-z0-9_-]{43}$/.test(dpopJkt)) fail('invalid_request', 'dpop_jkt is not a JWK SHA-256 thumbprint')
  return {
    client: target.client,
    ...to,
    scopes,
    codeChallenge,
    nonce,
    prompt,
    maxAge,
    loginHint: loginHint?.slice(0, 128),
    idTokenHint: idTokenHintOf(single(query, 'id_token_hint'), target.client, readIdTokenHint, fail),
    claims,
    ...(acrValues === undefined ? {} : { acrValues }),
    ...(dpopJkt === undefined ? {} : { dpopJkt })
  }
}

/**
 * `response_mode`: `query` or `form_post` (OAuth 2.0 Form Post Response Mode); anything else is invalid_request (sent
 * back as a query). A form can only post to a web address: form_post needs an http(s) redirect URI.
 */
function responseModeFor (value: string, redirectUri: string, fail: (error: 'invalid_request', description: string) => never): ResponseMode {
  if (!(RESPONSE_MODES as readonly string[]).includes(value)) fail('invalid_request', `response_mode must be one of ${RESPONSE_MODES.join(', ')}`)
  if (value === 'form_post' && !/^https?:/.test(redirectUri)) fail('invalid_request', 'response_mode=form_post needs an http or https redirect_uri')
  return value as ResponseMode
}

/**
 * The response mode a request object asks for, read (never verified, never used for anything else) only so that its
 * refusal reaches the client the way it expects it: a client that puts every parameter in the object (OIDC Core
 * §6.1) listens for form_post there. Whatever it says, the answer goes to the checked redirect URI.
 */
function requestObjectResponseMode (jwt: string, redirectUri: string): ResponseMode {
  let mode: unknown
  try {
    mode = (JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { response_mode?: unknown } | null)?.response_mode
  } catch {
    return 'query'
  }
  return mode === 'form_post' && /^https?:/.test(redirectUri) ? 'form_post' : 'query'
}

/**
 * `id_token_hint` (OIDC Core §3.1.2.1): an ID token Gatehouse signed for this client, expired or not. Anything else
 * (not a JWT, another issuer's or a forged signature, another client's) is invalid_request, never silently ignored.
 */
function idTokenHintOf (hint: string | undefined, client: Client, read: IdTokenHintReader, fail: (error: 'invalid_request', description: string) => never): { sub: string } | undefined {
  if (hint === undefined) return undefined
  const claims = hint.length <= MAX_ID_TOKEN_HINT ? read(hint) : undefined
  if (claims === undefined) return fail('invalid_request', 'id_token_hint is not an ID token this server issued')
  if (claims.aud !== client.id) return fail('invalid_request', 'id_token_hint was issued to another client')
  return { sub: claims.sub }
}

/**
 * PKCE (RFC 7636), S256 only (§4.2: `plain` and a missing method are refused). Required of public clients always
 * and of confidential ones by default (RFC 9700 §2.1.1); a confidential client registered with `pkce: optional` may
 * leave it out, its code flow then protected by its secret and the OpenID `nonce` (RFC 9700 §2.1.1 allows that). A
 * challenge that is sent is checked whatever the policy; null means none was sent and none was needed.
 */
export function pkceChallenge (query: Query, client: Client, fail: (error: 'invalid_request', description: string) => never): string | null {
  const challenge = single(query, 'code_challenge')
  const method = single(query, 'code_challenge_method')
  if (challenge === undefined) {
    if (client.isPublic || client.pkce !== 'optional') fail('invalid_request', 'code challenge required (PKCE, S256)')
    if (method !== undefined) fail('invalid_request', 'code_challenge_method was sent without a code_challenge')
    return null
  }
  if (method !== 'S256') fail('invalid_request', 'code_challenge_method must be S256')
  if (!S256_CHALLENGE.test(challenge)) fail('invalid_request', 'code_challenge is not a S256 challenge (43 base64url characters)')
  return challenge
}

/** What /authorize needs to read a request: the clients, resources, ID token hints, the pushed requests (RFC 9126) and, for signed request objects (RFC 9101), the clients' keys. */
export interface AuthorizationRequestDeps {
  clients: Pick<ClientStore, 'find'>
  resources: Pick<ResourceStore, 'find'>
  readIdTokenHint: IdTokenHintReader
  pushed: { store: Pick<PushedRequestStore, 'start'>, now: number, requiredEverywhere: boolean }
  requestObjects?: RequestObjectDeps
}

/**
 * Both steps: the client's request, checked. A pushed request (RFC 9126 §4: request_uri urn:…) is read from the store
 * first and checked again as any request (§4: the server MUST validate it as it would any other); a plain one from a
 * client that must push (its require_par, or REQUIRE_PAR=on) is refused back to the client (§5), as
 * node-oidc-provider answers it. With `requestObjects`, a signed request object (RFC 9101) is resolved then
 * (lib/oauth/request-object.ts `resolveRequestObject`): its parameters are the request, checked by the same rules; a
 * refused object goes back to the client (the redirect URI and state of the query, checked) as invalid_request_object.
 */
export async function readAuthorizationRequest (raw: Query, deps: AuthorizationRequestDeps): Promise<AuthorizationRequest> {
  const { query, pushed } = await resolvePushedRequest(raw, { pushedRequests: deps.pushed.store, now: deps.pushed.now })
  const client = await clientOf(query, deps.clients)
  const parameters = await requestParameters(query, client, deps.requestObjects)
  const target = redirectTarget(parameters, client)
  if (pushed === undefined && mustPush(client, deps.pushed.requiredEverywhere)) {
    throw new AuthorizationError('invalid_request', 'pushed authorization requests are required', target)
  }
  const checked = checkAuthorizationRequest(parameters, { ...target, pushed }, deps.readIdTokenHint)
  return checkResources(parameters, parameters === query ? checked : { ...checked, parameters }, deps.resources)
}

/**
 * The parameters of the request: the query's, or those of the signed request object it carries (RFC 9101 §5: the
 * query may hold client_id and request alone; the redirect URI is then the object's, known once it is verified).
 */
export async function requestParameters (query: Query, client: Client, requestObjects: RequestObjectDeps | undefined): Promise<Query> {
  if (requestObjects === undefined || single(query, 'request') === undefined) return query
  try {
    return await resolveRequestObject(query, client, requestObjects)
  } catch (err) {
    if (!(err instanceof InvalidRequestObject)) throw err
    // Refused: back to the query's redirect URI when it names a registered one (or the client has one), else the error page.
    const fallback = redirectTarget(query, client)
    const responseMode = single(query, 'response_mode') === undefined ? requestObjectResponseMode(String(query.request), fallback.redirectUri) : 'query'
    throw new AuthorizationError('invalid_request_object', err.message, { redirectUri: fallback.redirectUri, state: fallback.state, responseMode })
  }
}

/** The checked redirect URI (and state) of `client`'s request at /authorize: an HTML error page when there is none that may be used. */
function redirectTarget (query: Query, client: Client): { client: Client, redirectUri: string, state: string | undefined } {
  return clientTarget(query, client)
}

/** RFC 8707 §2.1: `resource` may repeat; an unknown or malformed one goes back to the client as invalid_target. */
export async function checkResources (query: Query, authz: AuthorizationRequest, resources: Pick<ResourceStore, 'find'>): Promise<AuthorizationRequest> {
  const values = resourceValues(query.resource)
  if (values.length === 0) return authz
  return { ...authz, resources: await resolveResources(values, resources, (description) => new AuthorizationError('invalid_target', description, authz)) }
}

/**
 * The scopes this user may be granted for this request: what was asked for (or, when nothing was, every
 * scope the user has, within the client's list). A non-OIDC scope asked for that the user does not hold, and no
 * requested resource defines, is
 * `refused` (no silent narrowing: the interaction policy answers `invalid_scope`, lib/oauth/interaction.ts).
 */
export function grantableScopes (request: AuthorizationRequest, userScope: string): { scopes: string[], refused: string[] } {
  const userScopes = parseScope(userScope)
  const clientScopes = request.client.scope === null ? undefined : parseScope(request.client.scope)
  if (request.scopes === undefined) return { scopes: userScopes.filter((s) => clientScopes === undefined || clientScopes.includes(s)), refused: [] }
  // A scope a requested resource defines is the user's to allow on the consent page (RFC 8707), held or not.
  const defined = resourceDefinedScopes(request.resources ?? [])
  return { scopes: request.scopes, refused: request.scopes.filter((s) => !isOidcScope(s) && !userScopes.includes(s) && !defined.has(s)) }
}

/** The client's redirect URI with `params` added (its own query kept), as the Location of a redirect back. */
export function redirectBack (redirectUri: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri)
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.append(name, value)
  return url.href
}

/** An answer to the client: a redirect (303) to its redirect URI with the parameters in the query, or a form posting them there. */
export type ClientResponse =
  | { mode: 'query', location: string }
  | { mode: 'form_post', action: string, fields: Array<[string, string]> }

/**
 * The authorization response (RFC 6749 §4.1.2, §4.1.2.1, with RFC 9207's `iss` among `params`) in the target's
 * response mode: `query` puts the parameters in the redirect URI's query; `form_post` (OAuth 2.0 Form Post Response
 * Mode §2) hands them to an auto-submitting form whose action is the redirect URI as registered. Unset ones are left out.
 */
export function responseTo (target: Omit<ClientTarget, 'pushed'>, params: Record<string, string | undefined>): ClientResponse {
  if (target.responseMode === 'query') return { mode: 'query', location: redirectBack(target.redirectUri, params) }
  const fields = Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined)
  return { mode: 'form_post', action: target.redirectUri, fields }
}

/**
 * RFC 7636 §4.6: BASE64URL(SHA256(ASCII(code_verifier))) == code_challenge; a malformed verifier never matches. A
 * code issued without a challenge must be redeemed without a verifier: one sent anyway is a PKCE downgrade attempt
 * (RFC 9700 §4.8.2: accept a code_verifier only if the authorization request had a code_challenge).
 */
export function verifierMatches (verifier: string | undefined, challenge: string | null): boolean {
  if (challenge === null) return verifier === undefined
  if (verifier === undefined || !CODE_VERIFIER.test(verifier)) return false
  return createHash('sha256').update(verifier, 'ascii').digest('base64url') === challenge
}

/** The query of a pending authorization request, as the path the login and consent forms return to. */
export function authorizePath (query: Query, drop: { prompts?: string[] } = {}): string {
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(query)) {
    // A parameter that may repeat (RFC 8707's `resource`) comes back once per value.
    if (Array.isArray(value)) {
      for (const each of value) if (typeof each === 'string') params.append(name, each)
      continue
    }
    if (typeof value !== 'string') continue
    if (name === 'prompt' && drop.prompts) {
      const kept = parseScope(value).filter((p) => !drop.prompts?.includes(p))
      if (kept.length > 0) params.append(name, kept.join(' '))
      continue
    }
    params.append(name, value)
  }
  return `/authorize?${params.toString()}`
}

/** A login or consent form's `return_to`: only a same-origin path to the authorization endpoint (no open redirect). */
export function safeReturnTo (value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 8192) return undefined
  return /^\/authorize\?[^#\\\s]*$/.test(value) ? value : undefined
}

/** The authorization request a `return_to` carries, as a query object. */
export function queryOf (returnTo: string): Query {
  const query: Query = {}
  for (const [name, value] of new URLSearchParams(returnTo.slice(returnTo.indexOf('?') + 1))) {
    const existing = query[name]
    query[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing as string, value]
  }
  return query
}
