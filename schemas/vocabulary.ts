import { Type, type SchemaOptions, type TUnsafe } from '@sinclair/typebox'

/**
 * The words of the protocol, each listed once: the error codes every reply may carry and the grant types
 * a client may hold. The code (lib/errors.ts, the grant modules, client registration), the TypeBox schemas
 * and so the OpenAPI document all take them from here.
 */

/** RFC 6749 §5.2 and §4.1.2.1 codes, plus RFC 6585's 429 and the 503 of an unreachable database. */
export const OAUTH_ERROR_CODES = [
  'invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type',
  'invalid_scope', 'unsupported_token_type', 'unsupported_response_type', 'access_denied', 'login_required',
  'consent_required', 'server_error', 'temporarily_unavailable', 'too_many_requests',
  // OIDC Core §3.1.2.6: prompt=none when a page other than sign-in or consent is needed (a second factor).
  'interaction_required',
  // OIDC Core §3.1.2.6: a request object (`request`) or one by reference (`request_uri`) that is not supported.
  'request_not_supported', 'request_uri_not_supported', 'invalid_request_object',
  // RFC 8707 §2: a `resource` that is malformed, not registered, or (at /token) not among those granted.
  'invalid_target',
  // RFC 8628 §3.5: the device authorization grant's polling answers (access_denied above answers a denial there too).
  'authorization_pending', 'slow_down', 'expired_token',
  // RFC 9126 §2.3 (as node-oidc-provider answers it): a pushed request whose redirect_uri is not the client's.
  'invalid_redirect_uri',
  // RFC 9449 §5, §8: a DPoP proof that is missing, invalid or signed with the wrong key; a proof without the server's nonce.
  'invalid_dpop_proof', 'use_dpop_nonce'
] as const
export type OAuthErrorCode = typeof OAUTH_ERROR_CODES[number]

/**
 * RFC 6750 §3.1 codes. `unauthorized` is the body's word when no credentials were sent at all (the
 * challenge then has no `error` attribute); `temporarily_unavailable` when the database cannot answer;
 * `invalid_dpop_proof` (RFC 9449 §7.1) when a token came with the DPoP scheme and its proof is missing or bad;
 * `use_dpop_nonce` (§9) when DPOP_NONCES=on and the proof lacks the current nonce (sent in `DPoP-Nonce`).
 */
export const BEARER_ERROR_CODES = ['invalid_request', 'invalid_token', 'insufficient_scope', 'unauthorized', 'temporarily_unavailable', 'invalid_dpop_proof', 'use_dpop_nonce'] as const
export type BearerErrorCode = typeof BEARER_ERROR_CODES[number]

/**
 * RFC 7591 §3.2.2 codes of POST /register and RFC 7592's PUT (besides RFC 6749's invalid_request), with the 429 of its
 * per-address limit and the 503 of an unreachable database.
 */
export const REGISTRATION_ERROR_CODES = ['invalid_redirect_uri', 'invalid_client_metadata', 'invalid_request', 'too_many_requests', 'temporarily_unavailable'] as const
export type RegistrationErrorCode = typeof REGISTRATION_ERROR_CODES[number]

/** What the admin API answers besides OAuth's `invalid_request`. */
export const ADMIN_ERROR_CODES = ['invalid_request', 'not_found', 'conflict', 'temporarily_unavailable'] as const
export type AdminErrorCode = typeof ADMIN_ERROR_CODES[number]

/** RFC 8628 §3.4: the device authorization grant's grant type. */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'

/** RFC 8693 §2.1: the token exchange grant's grant type. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange'

/**
 * RFC 8693 §3: token type identifiers. Gatehouse exchanges its own access tokens, for access tokens: the only type
 * `subject_token_type`, `actor_token_type` and `requested_token_type` may name, and the reply's `issued_token_type`.
 */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token'

/** Grant types a client may be registered for (RFC 6749 §4, §6; RFC 8628 §3.4; RFC 8693 §2.1). */
export const GRANT_TYPES = ['password', 'client_credentials', 'refresh_token', 'authorization_code', DEVICE_CODE_GRANT, TOKEN_EXCHANGE_GRANT] as const
export type GrantType = typeof GRANT_TYPES[number]

export const isGrantType = (value: string): value is GrantType => (GRANT_TYPES as readonly string[]).includes(value)

/** The JWS algorithms Gatehouse signs with: RS256 (OIDC Core §15.1: an OP MUST support it) and ES256. */
export { SIGNING_ALGS, type SigningAlg } from './signing-algs.js'

/**
 * How the authorization endpoint's answer travels back to the client: `query` (RFC 6749 §4.1.2, the default of
 * the code flow) or `form_post` (OAuth 2.0 Form Post Response Mode: an auto-submitting form posting it).
 */
export const RESPONSE_MODES = ['query', 'form_post'] as const
export type ResponseMode = typeof RESPONSE_MODES[number]

/**
 * PKCE per client: `required` (the default; always for public clients) or `optional`, which lets a confidential
 * client's authorization request come without a code_challenge (RFC 9700 §2.1.1: the OpenID `nonce` then protects
 * the code flow).
 */
export const PKCE_POLICIES = ['required', 'optional'] as const
export type PkcePolicy = typeof PKCE_POLICIES[number]

/**
 * A string that is one of `words`, as one `enum` (what client generators turn into a union type), typed as
 * the union of the words.
 */
export const OneOf = <const T extends readonly string[]>(words: T, options: SchemaOptions = {}): TUnsafe<T[number]> =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...words], ...options })
