import { Type, type Static } from '@sinclair/typebox'
import { ClientId, OAuthErrorResponse, Password, Scope, UsernameInput } from './common.js'

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
  client_id: Type.Optional(ClientId),
  client_secret: Type.Optional(Type.String({ maxLength: 512 }))
}, { additionalProperties: true })
export type TokenRequestBody = Static<typeof TokenRequest>

export const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
  scope: Type.Optional(Type.String()),
  refresh_token: Type.Optional(Type.String()),
  id_token: Type.Optional(Type.String())
}, { $id: 'TokenResponse', description: 'RFC 6749 §5.1' })
export type TokenResponseBody = Static<typeof TokenResponse>

export const tokenSchema = {
  tags: ['oauth'],
  summary: 'Token endpoint',
  description: 'Grants: password, client_credentials, refresh_token. Client authentication: client_secret_basic, client_secret_post, or none (public clients).',
  consumes: ['application/x-www-form-urlencoded'],
  security: [{ clientSecretBasic: [] }, {}] as Array<Record<string, string[]>>,
  body: TokenRequest,
  response: {
    200: TokenResponse,
    400: OAuthErrorResponse,
    401: OAuthErrorResponse,
    413: OAuthErrorResponse,
    429: OAuthErrorResponse,
    503: OAuthErrorResponse
  }
}
