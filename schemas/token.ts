import { Type, type Static } from '@sinclair/typebox'
import { ClientId, OAuthErrorSchema, Password, ref, Scope, UsernameInput, clientAssertionParams } from './common.js'
import { ACCESS_TOKEN_TYPE } from './vocabulary.js'

const Opaque = Type.String({ minLength: 1, maxLength: 32768 })

/**
 * POST /token (RFC 6749 §4.1.3, §4.3.2, §4.4.2, §6). Every parameter is a single string: repeated ones
 * are refused before validation. Unknown parameters are ignored (§3.2).
 */
export const TokenRequest = Type.Object({
  grant_type: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'required, except that username + password alone mean the password grant (as FastAPI\'s OAuth2PasswordRequestForm allows)' })),
  username: Type.Optional(UsernameInput),
  password: Type.Optional(Password),
  scope: Type.Optional(Scope),
  refresh_token: Type.Optional(Opaque),
  code: Type.Optional(Opaque),
  redirect_uri: Type.Optional(Type.String({ maxLength: 2048 })),
  code_verifier: Type.Optional(Type.String({ maxLength: 256 })),
  resource: Type.Optional(Type.String({
    maxLength: 2048,
    description: 'RFC 8707: the registered resource (an API, an MCP server) the access token is for: its `aud`, and only the scopes it defines. ' +
      'For authorization_code and refresh_token one of those named at /authorize (none named and one granted: that one). Unknown or not granted: invalid_target'
  })),
  device_code: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'RFC 8628 §3.4: the device code /device_authorization gave' })),
  subject_token: Type.Optional(Type.String({ minLength: 1, maxLength: 8192, description: 'RFC 8693 §2.1 (token exchange): the Gatehouse access token to exchange' })),
  subject_token_type: Type.Optional(Type.String({ maxLength: 128, description: `RFC 8693 §2.1: \`${ACCESS_TOKEN_TYPE}\` (the only type accepted)` })),
  actor_token: Type.Optional(Type.String({ minLength: 1, maxLength: 8192, description: 'RFC 8693 §2.1: a Gatehouse access token of the acting party, issued to the exchanging client; its `sub` becomes the `act`' })),
  actor_token_type: Type.Optional(Type.String({ maxLength: 128, description: `RFC 8693 §2.1: required with actor_token: \`${ACCESS_TOKEN_TYPE}\`` })),
  requested_token_type: Type.Optional(Type.String({ maxLength: 128, description: `RFC 8693 §2.1: only \`${ACCESS_TOKEN_TYPE}\`` })),
  audience: Type.Optional(Type.String({ maxLength: 2048, description: 'RFC 8693 §2.1: the target of a token exchange, a registered resource\'s URI (as `resource`)' })),
  client_id: Type.Optional(ClientId),
  client_secret: Type.Optional(Type.String({ maxLength: 512 })),
  ...clientAssertionParams
}, {
  additionalProperties: true,
  description: 'RFC 6749 §3.2, form-encoded. A parameter sent without a value counts as not sent (§3.1).',
  examples: [
    { grant_type: 'password', username: 'alice', password: 'correct horse battery staple', scope: 'items:read' },
    { grant_type: 'client_credentials', scope: 'orders:read' },
    { grant_type: 'refresh_token', refresh_token: 'oTk3YzY1ZDItMmE0Ni00…' },
    { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: 'eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9…', subject_token_type: ACCESS_TOKEN_TYPE, resource: 'https://billing.example.com' }
  ]
})
export type TokenRequestBody = Static<typeof TokenRequest>

export const TokenResponse = Type.Object({
  access_token: Type.String(),
  issued_token_type: Type.Optional(Type.String({ description: `RFC 8693 §2.2.1: a token exchange's answer names what it issued: \`${ACCESS_TOKEN_TYPE}\`` })),
  token_type: Type.Union([Type.Literal('Bearer'), Type.Literal('DPoP')], { description: 'RFC 9449 §5.1: DPoP when the access token is bound to the request\'s DPoP key (cnf.jkt)' }),
  expires_in: Type.Integer(),
  scope: Type.Optional(Type.String()),
  refresh_token: Type.Optional(Type.String()),
  id_token: Type.Optional(Type.String())
}, {
  $id: 'TokenResponse',
  description: 'RFC 6749 §5.1 (RFC 8693 §2.2.1 for a token exchange: with issued_token_type, never a refresh token)',
  examples: [{
    access_token: 'eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6Ii4uLiJ9.eyJpc3MiOiJodHRwOi8vbG9jYWxob3N0OjMwMDAiLCJzdWIiOiIuLi4ifQ.c2lnbmF0dXJl',
    token_type: 'Bearer',
    expires_in: 900,
    scope: 'items:read',
    refresh_token: 'oTk3YzY1ZDItMmE0Ni00…'
  }]
})
export type TokenResponseBody = Static<typeof TokenResponse>

/** Replies an OAuth endpoint (/token, /revoke, /introspect) can give besides its success: RFC 6749 §5.2 bodies. */
export const oauthErrors = {
  400: ref(OAuthErrorSchema, 'the request is malformed or refused (invalid_request, invalid_grant, invalid_scope, invalid_target, unauthorized_client, unsupported_grant_type; at /token invalid_dpop_proof, use_dpop_nonce)'),
  401: ref(OAuthErrorSchema, 'client authentication failed (invalid_client); WWW-Authenticate: Basic when the client used Basic'),
  413: ref(OAuthErrorSchema, 'the form body is larger than 64 KiB'),
  429: ref(OAuthErrorSchema, 'too many failed attempts (too_many_requests); Retry-After says when to try again'),
  503: ref(OAuthErrorSchema, 'temporarily_unavailable: the server cannot serve the request now (the database is unreachable); Retry-After says when to try again')
}

/** Where a client may authenticate: HTTP Basic (client_secret_basic), or in the form (client_secret_post, or client_id alone). */
export const clientAuthentication = [{ clientSecretBasic: [] }, {}] as Array<Record<string, string[]>>

export const tokenSchema = {
  operationId: 'createToken',
  tags: ['oauth'],
  summary: 'Token endpoint: issue an access token (RFC 6749 §3.2)',
  description: 'Grants: `password` (also when only `username` and `password` are sent, as the FastAPI tutorial\'s form does), ' +
    '`client_credentials`, `refresh_token`, `authorization_code`, `urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4: polling answers `authorization_pending`, `slow_down`, `access_denied`, `expired_token`), ' +
    '`urn:ietf:params:oauth:grant-type:token-exchange` (RFC 8693: `subject_token`, optional `actor_token`, `resource` or `audience`, `scope`; `invalid_target` for a resource the client may not target). Client authentication: client_secret_basic, client_secret_post, or none (public ' +
    'clients send `client_id`); a password grant with no client at all is served as the built-in public client `default`. ' +
    'Form-encoded only; a repeated parameter is `invalid_request`; a parameter sent without a value counts as not sent. ' +
    'DPoP (RFC 9449): a `DPoP` proof header binds the access token (`token_type: DPoP`, `cnf.jkt`) and a public client\'s refresh token to its key; ' +
    'a bad proof is `invalid_dpop_proof`, and with DPOP_NONCES=on a proof without the current nonce is `use_dpop_nonce` with the nonce in `DPoP-Nonce`.',
  consumes: ['application/x-www-form-urlencoded'],
  security: clientAuthentication,
  headers: Type.Object({
    dpop: Type.Optional(Type.String({ description: 'RFC 9449 §4: a DPoP proof JWT (htm POST, htu the token endpoint)' }))
  }),
  body: TokenRequest,
  response: {
    200: ref(TokenResponse, 'the access token (and a refresh token when the client may use one); Cache-Control: no-store'),
    ...oauthErrors
  }
}
