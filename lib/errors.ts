import { DPOP_SIGNING_ALGS } from './oauth/dpop-proof.js'
import type { AdminErrorCode, BearerErrorCode, OAuthErrorCode, RegistrationErrorCode, ResponseMode } from '../schemas/vocabulary.js'

/**
 * The one error root. Every error a route can throw is a GatehouseError: it carries its RFC code, a
 * description, the HTTP status and any headers (WWW-Authenticate, Retry-After), and the error-handler
 * plugin writes every one of them the same way, as `{error, error_description}`. The kinds differ only
 * in which codes they may carry and which headers they add:
 * - OAuthError: RFC 6749 §5.2 (token, revocation, introspection; authorization errors of §4.1.2.1);
 * - BearerError: RFC 6750 §3 (resources behind a bearer token) and RFC 9449 §7.1 (the DPoP scheme), with its
 *   `WWW-Authenticate` challenge (resourceChallenge);
 * - AdminError: the admin API and CLI (a rule broken, no such record, already exists);
 * - StoreUnavailableError: the database cannot be reached (503 with Retry-After), from any route.
 */
export abstract class GatehouseError extends Error {
  abstract readonly error: string
  readonly statusCode: number
  readonly headers: Record<string, string>

  constructor (description: string, statusCode: number, headers: Record<string, string> = {}, options?: ErrorOptions) {
    super(description, options)
    this.statusCode = statusCode
    this.headers = headers
  }

  /** The reply body: RFC 6749 §5.2's shape, used by every kind. */
  body (): { error: string, error_description: string } {
    return { error: this.error, error_description: this.message }
  }
}

/** The realm of every challenge (Basic for clients, Bearer for resources). */
export const REALM = 'gatehouse'

/** How long a client should wait before trying again when the database is unreachable. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 2

export class OAuthError extends GatehouseError {
  readonly error: OAuthErrorCode
  constructor (error: OAuthErrorCode, description: string, statusCode = 400, headers: Record<string, string> = {}) {
    super(description, statusCode, headers)
    this.error = error
  }
}

export const invalidRequest = (description: string) => new OAuthError('invalid_request', description)
export const invalidGrant = (description = 'the grant is invalid, expired, revoked or was issued to another client') =>
  new OAuthError('invalid_grant', description)
export const unauthorizedClient = (description: string) => new OAuthError('unauthorized_client', description)
export const unsupportedGrantType = (description: string) => new OAuthError('unsupported_grant_type', description)
export const invalidScope = (description: string) => new OAuthError('invalid_scope', description)
/** RFC 8707 §2: the `resource` is malformed, unknown, or not one this grant may name. */
export const invalidTarget = (description: string) => new OAuthError('invalid_target', description)
/** RFC 8628 §3.5: the device grant's polling answers, each a 400. */
export const authorizationPending = () => new OAuthError('authorization_pending', 'the user has not yet approved the request; poll again after the interval')
export const slowDown = (interval: number) => new OAuthError('slow_down', `polling too fast: wait at least ${interval} seconds between requests`)
export const expiredToken = () => new OAuthError('expired_token', 'the device code has expired; start again')
export const accessDenied = (description: string) => new OAuthError('access_denied', description)
/** RFC 9449 §5, §7.1: the token request's DPoP proof is missing where it is needed, invalid, or signed with another key. */
export const invalidDpopProof = (description: string) => new OAuthError('invalid_dpop_proof', description)
/** RFC 9449 §8: the proof must carry this server's current nonce, sent back in `DPoP-Nonce`. */
export const useDpopNonce = (nonce: string, description = 'the DPoP proof must carry the nonce in the DPoP-Nonce header') =>
  new OAuthError('use_dpop_nonce', description, 400, { 'dpop-nonce': nonce })
/** 401; `usedBasic` adds the `WWW-Authenticate: Basic` challenge RFC 6749 §5.2 asks for. */
export const invalidClient = (usedBasic: boolean, description = 'client authentication failed') =>
  new OAuthError('invalid_client', description, 401, usedBasic ? { 'www-authenticate': `Basic realm="${REALM}"` } : {})
/** 429 with Retry-After: brute-force limits (RFC 6585 §4). */
export const tooManyRequests = (retryAfter: number, description = 'too many failed attempts; try again later') =>
  new OAuthError('too_many_requests', description, 429, { 'retry-after': String(retryAfter) })
/** 503 with Retry-After: the server sheds work it cannot do in time (RFC 6749 §4.1.2.1's temporarily_unavailable). */
export const temporarilyUnavailable = (retryAfter: number, description: string) =>
  new OAuthError('temporarily_unavailable', description, 503, { 'retry-after': String(retryAfter) })

/**
 * The authentication scheme a resource refusal is about: `Bearer` (RFC 6750) or `DPoP` (RFC 9449 §7.1: the request
 * used the DPoP scheme, or sent a DPoP-bound token as Bearer). It picks the challenge (`resourceChallenge`).
 */
export type ResourceScheme = 'Bearer' | 'DPoP'

/**
 * RFC 6750 §3, and RFC 9449 §7.1 for the DPoP scheme. `code` undefined means "no credentials were sent": the
 * challenge then has no error attribute (§3.1) and the body says `unauthorized`. Descriptions are ours, never
 * attacker text, so quoting them in the header is safe.
 */
export class BearerError extends GatehouseError {
  readonly error: BearerErrorCode
  readonly code: Exclude<BearerErrorCode, 'unauthorized' | 'temporarily_unavailable'> | undefined

  readonly scope: string | undefined
  readonly scheme: ResourceScheme

  constructor (code: BearerError['code'], description: string, scope?: string, scheme: ResourceScheme = 'Bearer') {
    const statusCode = code === 'insufficient_scope' ? 403 : code === 'invalid_request' ? 400 : 401
    super(description, statusCode, { 'www-authenticate': resourceChallenge({ code, description, scope, scheme }, { realm: REALM, dpop: 'allowed' }) })
    this.code = code
    this.error = code ?? 'unauthorized'
    this.scope = scope
    this.scheme = scheme
  }
}

/**
 * RFC 6750 §3's challenge. `resourceMetadata` (RFC 9728 §5.1) tells a client that met this resource unprepared
 * where its protected resource metadata is, and through it which authorization server to ask (MCP clients
 * start there).
 */
export function bearerChallenge (realm: string, code: BearerError['code'], description: string, scope?: string, resourceMetadata?: string): string {
  let challenge = `Bearer realm="${realm.replace(/["\\]/g, '')}"`
  if (code) challenge += `, error="${code}", error_description="${description.replace(/["\\]/g, '')}"`
  if (scope) challenge += `, scope="${scope}"`
  if (resourceMetadata) challenge += `, resource_metadata="${resourceMetadata.replace(/["\\]/g, '')}"`
  return challenge
}

/**
 * RFC 9449 §7.1's challenge: the error (if any) and `algs`, the proof algorithms this resource takes (§7.1 names no
 * realm; Gatehouse sends none), plus `resource_metadata` as for Bearer.
 */
export function dpopChallenge (code: BearerError['code'], description: string, scope?: string, resourceMetadata?: string): string {
  const params: string[] = []
  if (code) params.push(`error="${code}"`, `error_description="${description.replace(/["\\]/g, '')}"`)
  if (scope) params.push(`scope="${scope}"`)
  params.push(`algs="${DPOP_SIGNING_ALGS.join(' ')}"`)
  if (resourceMetadata) params.push(`resource_metadata="${resourceMetadata.replace(/["\\]/g, '')}"`)
  return `DPoP ${params.join(', ')}`
}

/** Whether a resource takes DPoP: not at all, beside Bearer (Gatehouse's own API), or only DPoP. */
export type DpopMode = 'off' | 'allowed' | 'required'

/**
 * The one home of the `WWW-Authenticate` value a resource answers with (Gatehouse's own API through BearerError,
 * the resource-server plugin with its realm and metadata). A refusal about the Bearer scheme gets the Bearer
 * challenge alone, as RFC 6750 says (so a resource that also takes DPoP answers Bearer clients exactly as before); one
 * about DPoP gets the DPoP challenge, followed by a bare Bearer one where Bearer is accepted too (RFC 9449 §7.2: "a
 * protected resource supporting both schemes" offers both); where DPoP is required, the DPoP challenge alone.
 */
export function resourceChallenge (
  error: { code: BearerError['code'], description: string, scope?: string | undefined, scheme: ResourceScheme },
  options: { realm: string, dpop: DpopMode, resourceMetadata?: string | undefined }
): string {
  if (options.dpop === 'off' || (error.scheme === 'Bearer' && options.dpop === 'allowed')) {
    return bearerChallenge(options.realm, error.code, error.description, error.scope, options.resourceMetadata)
  }
  const dpop = dpopChallenge(error.code, error.description, error.scope, options.resourceMetadata)
  return options.dpop === 'required' ? dpop : `${dpop}, ${bearerChallenge(options.realm, undefined, '', undefined, options.resourceMetadata)}`
}

export const missingToken = () => new BearerError(undefined, 'no bearer token')
export const invalidToken = (description = 'the access token is invalid, expired or revoked') =>
  new BearerError('invalid_token', description)
export const insufficientScope = (scope: string, scheme: ResourceScheme = 'Bearer') =>
  new BearerError('insufficient_scope', `this resource needs the scope: ${scope}`, scope, scheme)
/** RFC 9449 §7.1: a token sent with the DPoP scheme that cannot be used (invalid, expired, revoked, not bound, another key). */
export const invalidDpopToken = (description = 'the access token is invalid, expired or revoked') =>
  new BearerError('invalid_token', description, undefined, 'DPoP')
/** RFC 9449 §7.1: the DPoP proof that came with a token is missing or fails a check of §4.3 (or was used before). */
export const invalidResourceDpopProof = (description: string) => new BearerError('invalid_dpop_proof', description, undefined, 'DPoP')
/** RFC 9449 §9: the proof must carry the server's current nonce, sent back in `DPoP-Nonce` (DPOP_NONCES=on). */
export const useDpopNonceAtResource = (nonce: string, description = 'the DPoP proof must carry the nonce in the DPoP-Nonce header') => {
  const error = new BearerError('use_dpop_nonce', description, undefined, 'DPoP')
  error.headers['dpop-nonce'] = nonce
  return error
}
/** RFC 9449 §7.2: a DPoP-bound token sent as a bearer token is refused, and the client told to use DPoP. */
export const boundTokenAsBearer = () =>
  new BearerError('invalid_token', 'this access token is bound to a DPoP key: send it as Authorization: DPoP with a DPoP proof', undefined, 'DPoP')

/** RFC 7591 §3.2.2: client metadata refused at POST /register or RFC 7592's PUT (400), or too many registrations (429). */
export class RegistrationError extends GatehouseError {
  readonly error: RegistrationErrorCode
  constructor (error: Exclude<RegistrationErrorCode, 'temporarily_unavailable'>, description: string, statusCode = 400, headers: Record<string, string> = {}) {
    super(description, statusCode, headers)
    this.error = error
  }
}

export const invalidRedirectUri = (description: string) => new RegistrationError('invalid_redirect_uri', description)
export const invalidClientMetadata = (description: string) => new RegistrationError('invalid_client_metadata', description)
export const tooManyRegistrations = (retryAfter: number) =>
  new RegistrationError('too_many_requests', 'too many registrations from this address; try again later', 429, { 'retry-after': String(retryAfter) })

/** A rule of the admin API or CLI was broken (400), no such record (404), or it already exists (409). */
export class AdminError extends GatehouseError {
  readonly error: AdminErrorCode
  constructor (error: Exclude<AdminErrorCode, 'temporarily_unavailable'>, description: string) {
    super(description, error === 'invalid_request' ? 400 : error === 'conflict' ? 409 : 404)
    this.error = error
  }
}

export const invalidInput = (description: string) => new AdminError('invalid_request', description)
export const notFound = (description: string) => new AdminError('not_found', description)
export const conflict = (description: string) => new AdminError('conflict', description)
/** 413: a streamed body (an import) went past its limit; the same answer Fastify's own body limit gets. */
export const bodyTooLarge = (limitBytes: number) =>
  new OAuthError('invalid_request', `the request body is larger than ${limitBytes} bytes`, 413)

/** The database could not be reached: every endpoint that needs it answers 503 (whatever its error shape). */
export class StoreUnavailableError extends GatehouseError {
  readonly error = 'temporarily_unavailable'
  override name = 'StoreUnavailableError'
  constructor (cause?: unknown) {
    super('the database is unreachable, try again shortly', 503, { 'retry-after': String(UNAVAILABLE_RETRY_AFTER_SECONDS), 'cache-control': 'no-store' }, { cause })
  }
}

/**
 * A path that matches a route's pattern but can name nothing (a provider name no provider can have): the route
 * throws it, and it is answered as the not-found handler answers any unknown path (plugins/error-handler.ts).
 */
export class NoSuchEndpointError extends GatehouseError {
  readonly error = 'not_found'
  constructor () {
    super('no such endpoint', 404)
  }
}

/**
 * A browser-flow failure shown as an HTML page, never sent back to a client: an authorization request whose
 * client or redirect URI cannot be trusted (RFC 6749 §4.1.2.1: MUST NOT redirect), a form without a valid CSRF
 * token (403), a login page request that makes no sense. The page states `error` and the description.
 */
export class PageError extends GatehouseError {
  readonly error: OAuthErrorCode
  constructor (error: OAuthErrorCode, description: string, statusCode = 400) {
    super(description, statusCode)
    this.error = error
  }
}

export const badAuthorizationRequest = (description: string) => new PageError('invalid_request', description)
/** Sign-in through an upstream provider: no such provider (404), a check that failed (400), a provider that cannot be reached (502). */
export const unknownProvider = () => new PageError('invalid_request', 'there is no such sign-in provider', 404)
export const upstreamRefused = (description: string) => new PageError('invalid_request', description, 400)
/** Second factors (docs/second-factors.md): no SECRETS_KEY to seal an app's secret; a user at MAX_FACTORS_PER_USER. */
export const noSecretsKey = () => new PageError('invalid_request', 'authenticator apps cannot be added on this server: it has no SECRETS_KEY to keep their secrets (ask its operator)', 409)
export const tooManyFactors = () => new PageError('invalid_request', 'you have as many second factors as an account may hold: remove one first', 409)
export const upstreamUnreachable = (description = 'the sign-in provider cannot be reached; try again in a moment') => new PageError('temporarily_unavailable', description, 502)
export const csrfRefused = () => new PageError('invalid_request', 'this form has expired or did not come from this site; go back and try again', 403)

/**
 * An authorization error that goes back to the client (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6) as
 * `error`, `error_description`, `state` and `iss` (RFC 9207) on its validated redirect URI, in the response mode
 * the request asked for (a redirect, or a form posting it): only thrown once the client and the redirect URI are
 * known to be good.
 */
export class AuthorizationError extends GatehouseError {
  readonly error: OAuthErrorCode
  readonly redirectUri: string
  readonly state: string | undefined
  readonly responseMode: ResponseMode
  /** The pushed request (RFC 9126) this answer ends, which it spends first (lib/oauth/pushed-requests.ts). */
  readonly pushed: { hash: string } | undefined
  constructor (error: OAuthErrorCode, description: string, target: { redirectUri: string, state: string | undefined, responseMode?: ResponseMode, pushed?: { hash: string } | undefined }) {
    super(description, 303)
    this.error = error
    this.redirectUri = target.redirectUri
    this.state = target.state
    this.responseMode = target.responseMode ?? 'query'
    this.pushed = target.pushed
  }
}
