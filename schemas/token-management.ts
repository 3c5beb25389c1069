import { Type } from '@sinclair/typebox'
import { ClientId, ref, clientAssertionParams } from './common.js'
import { clientAuthentication, oauthErrors } from './token.js'

const TokenParams = {
  // As long as /token accepts a refresh token: an oversized JWT is simply not active (SECURITY-CASES J3).
  token: Type.String({ minLength: 1, maxLength: 32768 }),
  token_type_hint: Type.Optional(Type.String({ maxLength: 64, description: 'access_token or refresh_token; a hint only (RFC 7009 §2.1)' })),
  client_id: Type.Optional(ClientId),
  client_secret: Type.Optional(Type.String({ maxLength: 512 })),
  ...clientAssertionParams
}

export const RevokeRequest = Type.Object(TokenParams, { additionalProperties: true, examples: [{ token: 'oTk3YzY1ZDItMmE0Ni00…', token_type_hint: 'refresh_token' }] })
export const IntrospectRequest = Type.Object(TokenParams, { additionalProperties: true, examples: [{ token: 'eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9…' }] })

export const IntrospectionResponse = Type.Object({
  active: Type.Boolean(),
  scope: Type.Optional(Type.String()),
  client_id: Type.Optional(Type.String()),
  username: Type.Optional(Type.String()),
  token_type: Type.Optional(Type.String()),
  exp: Type.Optional(Type.Integer()),
  iat: Type.Optional(Type.Integer()),
  nbf: Type.Optional(Type.Integer()),
  sub: Type.Optional(Type.String()),
  aud: Type.Optional(Type.String()),
  iss: Type.Optional(Type.String()),
  jti: Type.Optional(Type.String()),
  act: Type.Optional(Type.Object({ sub: Type.String() }, {
    additionalProperties: true,
    description: 'RFC 8693 §4.1: on a token from a token exchange, who acts for `sub` (`act` nested within for the actor before, when the exchanged token had one)'
  })),
  cnf: Type.Optional(Type.Object({ jkt: Type.String() }, { description: 'RFC 9449 §6.2: the DPoP key (JWK SHA-256 thumbprint) a DPoP-bound token is bound to; its token_type is DPoP' }))
}, {
  $id: 'IntrospectionResponse',
  description: 'RFC 7662 §2.2; only `active` when the token is not active',
  examples: [
    { active: true, scope: 'items:read', client_id: 'web', username: 'alice', token_type: 'Bearer', exp: 1767225600, iat: 1767224700, sub: '0b7e4c1a-5f0e-4d8e-9a43-2c1f6f1d9a10', aud: 'http://localhost:3000', iss: 'http://localhost:3000', jti: '4f1c3e2a-8d9b-4c7e-a1f0-6b5d4e3c2a10' },
    { active: false }
  ]
})

export const revokeSchema = {
  operationId: 'revokeToken',
  tags: ['oauth'],
  summary: 'Revoke a token (RFC 7009)',
  description: 'Revokes an access or refresh token of the calling client (revoking a refresh token revokes its whole grant). ' +
    'Answers 200 for unknown tokens and for tokens of other clients (which stay valid). Client authentication is required.',
  consumes: ['application/x-www-form-urlencoded'],
  security: clientAuthentication,
  body: RevokeRequest,
  response: { 200: Type.String({ maxLength: 0, description: 'revoked, or nothing to revoke (empty body)' }), ...oauthErrors }
}

export const introspectSchema = {
  operationId: 'introspectToken',
  tags: ['oauth'],
  summary: 'Introspect a token (RFC 7662)',
  description: 'For confidential clients (resource servers). Anything invalid, expired, revoked, of a disabled or deleted user ' +
    'or of a deleted client is `{"active":false}` and nothing else. Never rate-limited with 429: past 1,000 unknown tokens a minute ' +
    'from one client, answers about unknown tokens are delayed by 1 s; active answers never are.',
  consumes: ['application/x-www-form-urlencoded'],
  security: clientAuthentication,
  body: IntrospectRequest,
  // No 429: introspection is never refused (answers about unknown tokens may be delayed instead).
  response: { 200: ref(IntrospectionResponse, 'the token\'s state'), 400: oauthErrors[400], 401: oauthErrors[401], 413: oauthErrors[413], 503: oauthErrors[503] }
}
