import { Type } from '@sinclair/typebox'
import { ClientId, OAuthErrorResponse } from './common.js'

const TokenParams = {
  // As long as /token accepts a refresh token: an oversized JWT is simply not active (SECURITY-CASES J3).
  token: Type.String({ minLength: 1, maxLength: 32768 }),
  token_type_hint: Type.Optional(Type.String({ maxLength: 64, description: 'access_token or refresh_token; a hint only (RFC 7009 §2.1)' })),
  client_id: Type.Optional(ClientId),
  client_secret: Type.Optional(Type.String({ maxLength: 512 }))
}

export const RevokeRequest = Type.Object(TokenParams, { additionalProperties: true })
export const IntrospectRequest = Type.Object(TokenParams, { additionalProperties: true })

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
  jti: Type.Optional(Type.String())
}, { $id: 'IntrospectionResponse', description: 'RFC 7662 §2.2; only `active` when the token is not active' })

const oauthErrors = { 400: OAuthErrorResponse, 401: OAuthErrorResponse, 413: OAuthErrorResponse, 429: OAuthErrorResponse, 503: OAuthErrorResponse }
const security = [{ clientSecretBasic: [] }, {}] as Array<Record<string, string[]>>

export const revokeSchema = {
  tags: ['oauth'],
  summary: 'Token revocation (RFC 7009)',
  description: 'Revokes an access or refresh token of the calling client. Answers 200 for unknown tokens and for tokens of other clients (which stay valid).',
  consumes: ['application/x-www-form-urlencoded'],
  security,
  body: RevokeRequest,
  response: { 200: Type.String({ maxLength: 0, description: 'revoked, or nothing to revoke (empty body)' }), ...oauthErrors }
}

export const introspectSchema = {
  tags: ['oauth'],
  summary: 'Token introspection (RFC 7662)',
  description: 'For confidential clients (resource servers). Anything invalid, expired, revoked or of a disabled user is `{"active":false}`. ' +
    'Never rate-limited with 429: past 1,000 unknown tokens a minute from one client, answers about unknown tokens are delayed by 1 s; active answers never are.',
  consumes: ['application/x-www-form-urlencoded'],
  security,
  body: IntrospectRequest,
  response: { 200: IntrospectionResponse, 400: OAuthErrorResponse, 401: OAuthErrorResponse, 413: OAuthErrorResponse, 503: OAuthErrorResponse }
}
